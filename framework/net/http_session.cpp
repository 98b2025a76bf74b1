#include "net/http_session.hpp"

#include "net/url.hpp"
#include "net/ws_session.hpp"
#include "util/log.hpp"

#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>

namespace roomcast::net {

namespace {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// The certificate's subject in RFC 2253 form ("CN=alice,O=Example"), with the
/// special characters of values escaped, so that no value can pose as another
/// attribute.
std::string rfc2253_subject(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> out(BIO_new(BIO_s_mem()), BIO_free);
  if (!out || X509_NAME_print_ex(out.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0)
    return {};
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

/// The request/response loop, shared by plain and TLS connections (CRTP, as in
/// Beast's flex server): Derived owns the stream and knows how to upgrade it and
/// how to end the connection.
template <class Derived>
class http_session_base {
 public:
  http_session_base(std::shared_ptr<gateway> gw, std::shared_ptr<session_registry> registry,
                    beast::flat_buffer buffer)
      : buffer_(std::move(buffer)), gateway_(std::move(gw)), registry_(std::move(registry)) {}

 protected:
  Derived& derived() { return static_cast<Derived&>(*this); }
  auto& lowest() { return beast::get_lowest_layer(derived().stream()); }

  void do_read() {
    parser_.emplace();
    parser_->body_limit(gateway_->limits().max_http_body_bytes);
    lowest().expires_after(gateway_->limits().handshake_timeout);
    http::async_read(derived().stream(), buffer_, *parser_,
                     beast::bind_front_handler(&http_session_base::on_read,
                                               derived().shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return derived().do_shutdown();
    if (ec) {
      if (ec == http::error::body_limit)
        return send(http_response::json(
                        413, R"({"error":"payload_too_large","message":"request body too large"})"),
                    false);
      return;  // timeout or reset: nothing to answer
    }
    beast_request req = parser_->release();
    if (derived().refuses_plain())
      return send(http_response::json(
                      400, R"({"error":"tls_required","message":"this port accepts TLS only: use https:// or wss://"})"),
                  false);
    auto converted = convert(req);
    if (!converted)
      return send(http_response::json(
                      400, R"({"error":"bad_request","message":"malformed request target"})"),
                  false);

    if (boost::beast::websocket::is_upgrade(req)) {
      // The decision may come from another thread (a connect proxy): back
      // onto this socket's executor for the handshake.
      auto held = std::make_shared<beast_request>(std::move(req));
      gateway_->plan_upgrade(
          *converted, [self = derived().shared_from_this(), held,
                       remote = converted->remote_address](upgrade_plan plan) {
            asio::post(self->stream().get_executor(),
                       [self, held, remote, plan = std::move(plan)]() mutable {
                         // A fresh deadline: deciding may have taken most of the old one.
                         self->lowest().expires_after(self->gateway_->limits().handshake_timeout);
                         if (plan.refusal) return self->send(std::move(*plan.refusal), false);
                         self->lowest().expires_never();
                         self->upgrade(std::move(*held), std::move(plan), remote);
                       });
          });
      return;
    }
    // The answer may come from an actor thread: back onto this socket's executor.
    gateway_->handle_http(*converted, [self = derived().shared_from_this(),
                                       keep_alive = req.keep_alive()](http_response response) {
      asio::post(self->stream().get_executor(),
                 [self, keep_alive, response = std::move(response)]() mutable {
                   // The answer may come seconds after the read: a fresh deadline for the write.
                   self->lowest().expires_after(self->gateway_->limits().handshake_timeout);
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
    auto endpoint = lowest().socket().remote_endpoint(ec);
    if (!ec) out.remote_address = endpoint.address().to_string();
    derived().describe_transport(out);
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
    http::async_write(derived().stream(), *res,
                      [self = derived().shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return;
                        if (!res->keep_alive()) return self->do_shutdown();
                        self->do_read();
                      });
  }

  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<gateway> gateway_;
  std::shared_ptr<session_registry> registry_;
};

class plain_http_session : public http_session_base<plain_http_session>,
                           public std::enable_shared_from_this<plain_http_session> {
 public:
  plain_http_session(beast::tcp_stream&& stream, std::shared_ptr<gateway> gw,
                     std::shared_ptr<session_registry> registry, beast::flat_buffer buffer,
                     bool refuse_plain)
      : http_session_base(std::move(gw), std::move(registry), std::move(buffer)),
        stream_(std::move(stream)),
        refuse_plain_(refuse_plain) {}

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&plain_http_session::do_read, shared_from_this()));
  }

  beast::tcp_stream& stream() { return stream_; }
  [[nodiscard]] bool refuses_plain() const { return refuse_plain_; }
  static void describe_transport(http_request&) {}

  void upgrade(beast_request req, upgrade_plan plan, const std::string& remote_address) {
    start_plain_ws_session(std::move(stream_), std::move(req), std::move(plan),
                           gateway_->limits(), registry_, remote_address);
  }

  void do_shutdown() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

 private:
  friend class http_session_base<plain_http_session>;
  beast::tcp_stream stream_;
  bool refuse_plain_;
};

class tls_http_session : public http_session_base<tls_http_session>,
                         public std::enable_shared_from_this<tls_http_session> {
 public:
  tls_http_session(beast::tcp_stream&& stream, ssl_context_ptr context,
                   std::shared_ptr<gateway> gw, std::shared_ptr<session_registry> registry,
                   beast::flat_buffer buffer)
      : http_session_base(std::move(gw), std::move(registry), std::move(buffer)),
        context_(std::move(context)),
        stream_(std::move(stream), *context_) {}

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->lowest().expires_after(self->gateway_->limits().handshake_timeout);
      // The bytes read while detecting TLS are the start of the ClientHello.
      self->stream_.async_handshake(
          asio::ssl::stream_base::server, self->buffer_.data(),
          beast::bind_front_handler(&tls_http_session::on_handshake, self));
    });
  }

  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  [[nodiscard]] static bool refuses_plain() { return false; }

  void describe_transport(http_request& out) const {
    out.tls = true;
    out.client_cert_subject = client_subject_;
  }

  void upgrade(beast_request req, upgrade_plan plan, const std::string& remote_address) {
    start_tls_ws_session(std::move(stream_), std::move(context_), std::move(req),
                         std::move(plan), gateway_->limits(), registry_, remote_address);
  }

  void do_shutdown() {
    lowest().expires_after(gateway_->limits().handshake_timeout);
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

 private:
  friend class http_session_base<tls_http_session>;

  void on_handshake(beast::error_code ec, std::size_t used) {
    if (ec) {
      log::debug("tls", "handshake failed", {{"error", ec.message()}});
      return;
    }
    buffer_.consume(used);
    // Once per connection, not per request: the peer cannot change on it.
    if (X509* cert = SSL_get_peer_certificate(stream_.native_handle())) {
      if (SSL_get_verify_result(stream_.native_handle()) == X509_V_OK)
        client_subject_ = rfc2253_subject(cert);
      X509_free(cert);
    }
    do_read();
  }

  ssl_context_ptr context_;  // before stream_: the SSL object refers to it
  beast::ssl_stream<beast::tcp_stream> stream_;
  std::string client_subject_;  // a verified client certificate's, from the handshake
};

/// Reads a connection's first bytes to tell a TLS ClientHello from plain HTTP.
class tls_detector : public std::enable_shared_from_this<tls_detector> {
 public:
  tls_detector(tcp::socket&& socket, std::shared_ptr<gateway> gw,
               std::shared_ptr<session_registry> registry,
               std::shared_ptr<const tls_context_holder> tls)
      : stream_(std::move(socket)), gateway_(std::move(gw)), registry_(std::move(registry)),
        tls_(std::move(tls)) {}

  void run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->stream_.expires_after(self->gateway_->limits().handshake_timeout);
      beast::async_detect_ssl(self->stream_, self->buffer_,
                              beast::bind_front_handler(&tls_detector::on_detect, self));
    });
  }

 private:
  void on_detect(beast::error_code ec, bool is_tls) {
    if (ec) return;  // closed or timed out before saying anything
    if (is_tls) {
      std::make_shared<tls_http_session>(std::move(stream_), tls_->current(), std::move(gateway_),
                                         std::move(registry_), std::move(buffer_))
          ->run();
      return;
    }
    std::make_shared<plain_http_session>(std::move(stream_), std::move(gateway_),
                                         std::move(registry_), std::move(buffer_),
                                         !tls_->allow_plain())
        ->run();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::shared_ptr<gateway> gateway_;
  std::shared_ptr<session_registry> registry_;
  std::shared_ptr<const tls_context_holder> tls_;
};

}  // namespace

void start_http_session(tcp::socket socket, std::shared_ptr<gateway> gw,
                        std::shared_ptr<session_registry> registry,
                        std::shared_ptr<const tls_context_holder> tls) {
  if (tls) {
    std::make_shared<tls_detector>(std::move(socket), std::move(gw), std::move(registry),
                                   std::move(tls))
        ->run();
    return;
  }
  std::make_shared<plain_http_session>(beast::tcp_stream(std::move(socket)), std::move(gw),
                                       std::move(registry), beast::flat_buffer{}, false)
      ->run();
}

}  // namespace roomcast::net
