#include "ws_conn.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <deque>
#include <mutex>

namespace roomcast::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {

class beast_conn final : public ws_conn, public std::enable_shared_from_this<beast_conn> {
 public:
  explicit beast_conn(asio::io_context& ioc) : ws_(asio::make_strand(ioc)) {}

  void connect(const std::string& host, std::uint16_t port, const std::string& target,
               done_handler done) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), host, port, target,
                                    done = std::move(done)]() mutable {
      auto& stream = beast::get_lowest_layer(self->ws_);
      stream.expires_after(std::chrono::seconds(30));
      tcp::endpoint endpoint(asio::ip::make_address(host), port);
      stream.async_connect(endpoint, [self, host, port, target,
                                      done = std::move(done)](beast::error_code ec) mutable {
        if (ec) return done(false, "connect: " + ec.message());
        beast::error_code ignored;
        beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true), ignored);
        self->ws_.async_handshake(
            host + ":" + std::to_string(port), target,
            [self, done = std::move(done)](beast::error_code hec) {
              if (hec) return done(false, "handshake: " + hec.message());
              beast::get_lowest_layer(self->ws_).expires_never();
              self->open_ = true;
              self->do_read();
              done(true, {});
            });
      });
    });
  }

  void on_message(message_handler handler) override { handler_ = std::move(handler); }

  void send(std::string data, bool binary) override {
    asio::post(ws_.get_executor(), [self = shared_from_this(), data = std::move(data),
                                    binary]() mutable {
      self->outbox_.emplace_back(std::move(data), binary);
      if (!self->writing_) self->do_write();
    });
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  bool is_open() const override { return open_; }

 private:
  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->open_ = false;
        return;
      }
      auto data = self->buffer_.cdata();
      if (self->handler_)
        self->handler_(std::string_view(static_cast<const char*>(data.data()), data.size()),
                       self->ws_.got_binary());
      self->buffer_.consume(self->buffer_.size());
      self->do_read();
    });
  }

  void do_write() {
    if (outbox_.empty()) return;
    writing_ = true;
    ws_.binary(outbox_.front().second);
    ws_.async_write(asio::buffer(outbox_.front().first),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (ec) return;
                      self->outbox_.pop_front();
                      self->do_write();
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  message_handler handler_;
  std::deque<std::pair<std::string, bool>> outbox_;
  bool writing_ = false;
  std::atomic<bool> open_{false};
};

}  // namespace

std::shared_ptr<ws_conn> make_ws_conn(asio::io_context& ioc) {
  return std::make_shared<beast_conn>(ioc);
}

}  // namespace roomcast::bench
