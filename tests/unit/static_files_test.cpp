// Static files served from memory: index.html for directories, content types,
// ETag / If-None-Match, nothing outside the directory, GET only.
#include "api/static_files.hpp"
#include "common/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace roomcast::api {
namespace {

using roomcast::testing::temp_dir;

http_request get(std::string path) {
  http_request r;
  r.method = "GET";
  r.path = std::move(path);
  return r;
}

struct site {
  temp_dir dir;
  site() {
    std::filesystem::create_directories(dir.file("assets"));
    std::ofstream(dir.file("index.html")) << "<h1>home</h1>";
    std::ofstream(dir.file("assets/app.js")) << "console.log(1)";
    std::ofstream(dir.file("assets/index.html")) << "assets index";
  }
};

TEST(StaticFiles, ServesFilesWithTheirTypes) {
  site s;
  static_files files("/", s.dir.path());
  EXPECT_EQ(files.size(), 3u);
  auto home = files.serve(get("/"));
  ASSERT_TRUE(home);
  EXPECT_EQ(home->status, 200u);
  EXPECT_EQ(home->body, "<h1>home</h1>");
  EXPECT_EQ(home->content_type, "text/html; charset=utf-8");
  auto js = files.serve(get("/assets/app.js"));
  ASSERT_TRUE(js);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  ASSERT_TRUE(files.serve(get("/assets/")));
  EXPECT_EQ(files.serve(get("/assets/"))->body, "assets index");
}

TEST(StaticFiles, UnknownPathsMethodsAndEscapesAreNotServed) {
  site s;
  std::ofstream(s.dir.file("../outside.txt")) << "secret";
  static_files files("/", s.dir.path());
  EXPECT_FALSE(files.serve(get("/missing.css")));
  EXPECT_FALSE(files.serve(get("/../outside.txt")));
  EXPECT_FALSE(files.serve(get("/assets/../../outside.txt")));
  auto post = get("/");
  post.method = "POST";
  EXPECT_FALSE(files.serve(post));
  std::filesystem::remove(s.dir.file("../outside.txt"));
}

TEST(StaticFiles, HiddenFilesAreNotServed) {
  site s;
  std::ofstream(s.dir.file(".env")) << "SECRET=1";
  std::filesystem::create_directories(s.dir.file(".git"));
  std::ofstream(s.dir.file(".git/config")) << "[core]";
  static_files files("/", s.dir.path());
  EXPECT_EQ(files.size(), 3u);
  EXPECT_FALSE(files.serve(get("/.env")));
  EXPECT_FALSE(files.serve(get("/.git/config")));
}

TEST(StaticFiles, PrefixIsRespected) {
  site s;
  static_files files("/ui", s.dir.path());
  EXPECT_FALSE(files.serve(get("/index.html")));
  ASSERT_TRUE(files.serve(get("/ui/")));
  EXPECT_EQ(files.serve(get("/ui/"))->body, "<h1>home</h1>");
}

TEST(StaticFiles, ETagAnswers304WhenUnchanged) {
  site s;
  static_files files("/", s.dir.path());
  auto first = files.serve(get("/"));
  ASSERT_TRUE(first);
  std::string etag;
  for (const auto& [name, value] : first->headers)
    if (name == "ETag") etag = value;
  ASSERT_EQ(etag.size(), 34u);  // quoted 32 hex digits
  auto again = get("/");
  again.headers["if-none-match"] = etag;
  auto cached = files.serve(again);
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 304u);
  EXPECT_TRUE(cached->body.empty());
  again.headers["if-none-match"] = "\"other\"";
  EXPECT_EQ(files.serve(again)->status, 200u);
}

TEST(StaticFiles, AMissingDirectoryIsAnError) {
  EXPECT_THROW(static_files("/", "/nonexistent/roomcast"), std::runtime_error);
  EXPECT_EQ(content_type_of("x.unknownext"), "application/octet-stream");
}

}  // namespace
}  // namespace roomcast::api
