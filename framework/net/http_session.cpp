#include "net/http_session.hpp"

#include "net/url.hpp"
#include "net/ws_session.hpp"

#include <boost/beast/websocket/rfc6455.hpp>

#include <optional>

namespace roomcast::net {

namespace {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  http_session(tcp::socket&& socket, std::shared_ptr<gateway> gw,
               std::shared_ptr<session_registry> registry)
      : stream_(std::move(socket)), gateway_(std::move(gw)), registry_(std::move(registry)) {}

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&http_session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(gateway_->limits().max_http_body_bytes);
    stream_.expires_after(gateway_->limits().handshake_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&http_session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_shutdown();
    if (ec) {
      if (ec == http::error::body_limit)
        return send(http_response::json(
                        413, R"({"error":"payload_too_large","message":"request body too large"})"),
                    false);
      return;  // timeout or reset: nothing to answer
    }
    beast_request req = parser_->release();
    auto converted = convert(req);
    if (!converted)
      return send(http_response::json(
                      400, R"({"error":"bad_request","message":"malformed request target"})"),
                  false);

    if (boost::beast::websocket::is_upgrade(req)) {
      upgrade_plan plan = gateway_->plan_upgrade(*converted);
      if (plan.refusal) return send(std::move(*plan.refusal), false);
      stream_.expires_never();
      start_plain_ws_session(std::move(stream_), std::move(req), std::move(plan),
                             gateway_->limits(), registry_, converted->remote_address);
      return;
    }
    // The answer may come from an actor thread: back onto this socket's executor.
    gateway_->handle_http(*converted, [self = shared_from_this(),
                                       keep_alive = req.keep_alive()](http_response response) {
      asio::post(self->stream_.get_executor(),
                 [self, keep_alive, response = std::move(response)]() mutable {
                   // The answer may come seconds after the read: a fresh deadline for the write.
                   self->stream_.expires_after(self->gateway_->limits().handshake_timeout);
                   self->send(std::move(response), keep_alive);
                 });
    });
  }

  std::optional<http_request> convert(const beast_request& req) {
    auto target = parse_target(std::string_view(req.target().data(), req.target().size()));
    if (!target) return std::nullopt;
    http_request out;
    out.method = std::string(req.method_string());
    out.target = std::string(req.target());
    out.path = std::move(target->path);
    out.query = std::move(target->query);
    for (const auto& field : req)
      out.headers.insert_or_assign(to_lower(field.name_string()), std::string(field.value()));
    out.body = req.body();
    beast::error_code ec;
    auto endpoint = stream_.socket().remote_endpoint(ec);
    if (!ec) out.remote_address = endpoint.address().to_string();
    return out;
  }

  void send(http_response response, bool keep_alive) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(response.status), 11);
    res->set(http::field::server, "roomcast");
    res->set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res->set(name, value);
    res->body() = std::move(response.body);
    res->keep_alive(keep_alive);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!res->keep_alive()) return self->do_shutdown();
                        self->do_read();
                      });
  }

  void do_shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<gateway> gateway_;
  std::shared_ptr<session_registry> registry_;
};

}  // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<gateway> gw,
                        std::shared_ptr<session_registry> registry) {
  std::make_shared<http_session>(std::move(socket), std::move(gw), std::move(registry))->run();
}

}  // namespace roomcast::net
