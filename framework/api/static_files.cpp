#include "api/static_files.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace roomcast::api {

namespace fs = std::filesystem;

namespace {

/// A strong ETag: the first 16 bytes of the content's SHA-256, in hex.
std::string etag_of(const std::string& body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(body.data(), body.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned int i = 0; i < 16 && i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out + "\"";
}

bool etag_listed(const std::string& if_none_match, const std::string& etag) {
  if (if_none_match == "*") return true;
  return if_none_match.find(etag) != std::string::npos;
}

}  // namespace

std::string content_type_of(const std::string& file_name) {
  static const std::map<std::string, std::string, std::less<>> types = {
      {".html", "text/html; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".map", "application/json"},
      {".svg", "image/svg+xml"},               {".png", "image/png"},
      {".ico", "image/x-icon"},                {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},                {".webmanifest", "application/manifest+json"}};
  auto ext = fs::path(file_name).extension().string();
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

static_files::static_files(std::string url_prefix, const std::string& directory)
    : prefix_(std::move(url_prefix)) {
  if (prefix_.empty() || prefix_.front() != '/') prefix_.insert(0, "/");
  if (prefix_.back() != '/') prefix_ += '/';
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw std::runtime_error("static files: '" + directory + "' is not a readable directory");
  for (auto it = fs::recursive_directory_iterator(directory); it != fs::recursive_directory_iterator();
       ++it) {
    const auto& entry = *it;
    // Hidden files and folders (.git, .env, editor swap files) are never served.
    if (entry.path().filename().string().starts_with(".")) {
      if (entry.is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    if (!in) throw std::runtime_error("static files: cannot read " + entry.path().string());
    std::ostringstream body;
    body << in.rdbuf();
    auto relative = fs::relative(entry.path(), directory).generic_string();
    file f{body.str(), content_type_of(relative), {}};
    f.etag = etag_of(f.body);
    files_.emplace(std::move(relative), std::move(f));
  }
}

std::optional<http_response> static_files::serve(const http_request& request) const {
  if (request.method != "GET" || !request.path.starts_with(prefix_)) return std::nullopt;
  std::string relative = request.path.substr(prefix_.size());
  // Only names read at start are served, so ".." cannot reach outside the directory.
  if (relative.empty() || relative.back() == '/') relative += "index.html";
  auto it = files_.find(relative);
  if (it == files_.end()) return std::nullopt;
  const file& f = it->second;
  http_response res{200, f.content_type, {}, {}};
  res.headers = {{"ETag", f.etag}, {"Cache-Control", "no-cache"},
                 {"X-Content-Type-Options", "nosniff"}};
  if (auto inm = request.headers.find("if-none-match");
      inm != request.headers.end() && etag_listed(inm->second, f.etag)) {
    res.status = 304;
    return res;
  }
  res.body = f.body;
  return res;
}

}  // namespace roomcast::api
