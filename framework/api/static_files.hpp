#pragma once
// Static files (a web UI's HTML, JS and CSS) served from memory: the directory
// is read once, when the server is configured, so requests never touch the disk
// on an I/O thread. Each file gets an ETag; a matching If-None-Match gets 304.

#include "roomcast/http.hpp"

#include <map>
#include <optional>
#include <string>

namespace roomcast::api {

class static_files {
 public:
  /// Reads every regular file under `directory` (recursively), to be served
  /// under `url_prefix` ("/" or "/assets/"); "index.html" also answers its
  /// directory's URL. Throws std::runtime_error when the directory cannot be read.
  static_files(std::string url_prefix, const std::string& directory);

  /// The answer to a GET of `request.path`, or nullopt when no file matches.
  [[nodiscard]] std::optional<http_response> serve(const http_request& request) const;

  [[nodiscard]] std::size_t size() const { return files_.size(); }

 private:
  struct file {
    std::string body;
    std::string content_type;
    std::string etag;
  };
  std::string prefix_;
  std::map<std::string, file, std::less<>> files_;  // by path below the prefix
};

/// The Content-Type for a file name's extension (application/octet-stream if unknown).
[[nodiscard]] std::string content_type_of(const std::string& file_name);

}  // namespace roomcast::api
