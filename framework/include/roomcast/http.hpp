#pragma once
// The small HTTP surface that shares the WebSocket port: plain request/response
// handlers for paths such as /healthz or an application's /api/login.

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace roomcast {

struct http_request {
  std::string method;                          ///< "GET", "POST", ...
  std::string target;                          ///< path and query as received
  std::string path;                            ///< decoded path without the query
  std::map<std::string, std::string> query;    ///< decoded query parameters
  std::map<std::string, std::string> headers;  ///< header names in lower case
  std::string body;
  std::string remote_address;
  bool tls = false;  ///< arrived over TLS
  /// The verified client certificate's subject in RFC 2253 form ("CN=alice,O=Example"), when the
  /// server asks for client certificates and one was sent.
  std::string client_cert_subject;
};

struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static http_response json(unsigned status, std::string body) {
    return http_response{status, "application/json", std::move(body), {}};
  }
  static http_response text(unsigned status, std::string body) {
    return http_response{status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

/// Runs on an I/O thread: keep it short and non-blocking.
using http_handler = std::function<http_response(const http_request&)>;

}  // namespace roomcast
