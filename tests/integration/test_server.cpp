#include "test_server.hpp"

#include "roomcast/echo_channel.hpp"
#include "roomcast/presence_channel.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>

namespace roomcast::testing {

namespace {

std::atomic<bool> sleeping_room{false};  // test-only: lets a test see the room is busy

const char* reason_name(leave_reason why) {
  switch (why) {
    case leave_reason::left: return "left";
    case leave_reason::rejoined: return "rejoined";
    case leave_reason::closed: return "closed";
  }
  return "?";
}

class room_channel final : public channel {
 public:
  join_result on_join(const json::value& params, const member& who) override {
    if (const auto* obj = params.if_object()) {
      if (obj->contains("crash")) throw std::runtime_error("crash requested in on_join");
      if (const auto* ms = obj->if_contains("sleep_ms"); ms && ms->is_int64())
        std::this_thread::sleep_for(std::chrono::milliseconds(ms->get_int64()));
      if (obj->contains("refuse")) {
        if (obj->contains("track_first")) track(who, "refused-user", {});
        return join_result::refuse("not allowed");
      }
    }
    broadcast("someone_joined", json::object());  // to the members already here only
    return join_result::accept(json::object{{"joins", ++joins_}});
  }

  reply on_event(std::string_view event, const json::value& payload,
                 const member& from) override {
    if (event == "shout") {
      broadcast("shout", payload);
      return reply::ok();
    }
    if (event == "shout_others") {
      broadcast_from(from, "shout_others", payload);
      return reply::ok();
    }
    if (event == "whisper") {
      push(from, "whisper", payload);
      return reply::ok();
    }
    if (event == "crash") throw std::runtime_error("crash requested");
    if (event == "silent") return reply::none();
    if (event == "later") {
      send_after(std::chrono::milliseconds(20), [this] { broadcast("later", json::object()); });
      return reply::ok();
    }
    if (event == "ticks") {
      ticks_ = 0;
      tick_timer_ = send_every(std::chrono::milliseconds(10), [this] {
        broadcast("tick", json::object{{"n", ++ticks_}});
        if (ticks_ == 3) {
          cancel_timer(tick_timer_);
          broadcast("ticks_done", json::object());
        }
      });
      return reply::ok();
    }
    if (event == "count") return reply::ok(json::object{{"members", member_count()}});
    if (event == "blast") {  // n broadcasts of size bytes; reports the last one's outcome
      broadcast_result last;
      auto n = payload.at("n").as_int64();
      std::string pad(static_cast<std::size_t>(payload.at("size").as_int64()), 'b');
      for (std::int64_t i = 0; i < n; ++i)
        last = broadcast("blast", json::object{{"i", i}, {"pad", pad}});
      return reply::ok(json::object{{"success", last.success},
                                    {"backpressure", last.backpressure},
                                    {"dropped", last.dropped}});
    }
    if (event == "sleep") {  // blocks the room, so that its mailbox fills up
      sleeping_room = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      sleeping_room = false;
      return reply::ok();
    }
    return channel::on_event(event, payload, from);
  }

  void on_leave(const member& who, leave_reason why) override {
    broadcast("left", json::object{{"socket", who.socket().id}, {"why", reason_name(why)}});
  }

 private:
  std::int64_t joins_ = 0;
  std::int64_t ticks_ = 0;
  timer_id tick_timer_ = 0;
};

/// Chat-like, but its broadcasts are droppable past a small budget of their own.
class small_budget_channel final : public channel {
 public:
  join_result on_join(const json::value&, const member&) override { return join_result::accept(); }
  reply on_event(std::string_view event, const json::value& payload, const member&) override {
    broadcast(event, payload);
    return reply::ok();
  }
  std::optional<overflow_policy> outbound_policy() const override { return overflow_policy::drop; }
  std::optional<std::size_t> outbound_budget() const override { return 64 * 1024; }
};

/// Declares itself durable (no rule needed).
class journal_channel final : public channel {
 public:
  join_result on_join(const json::value&, const member&) override { return join_result::accept(); }
  reply on_event(std::string_view event, const json::value& payload, const member& from) override {
    if (event == "two") {
      broadcast("entry", json::object{{"part", 1}});
      broadcast("entry", json::object{{"part", 2}});
      return reply::ok();
    }
    if (event == "not_object") {
      auto result = broadcast("entry", json::array{1, 2});
      return reply::ok(json::object{{"dropped", result.dropped}});
    }
    if (event == "whisper") {
      push(from, "whisper", payload);  // not a broadcast: not stored
      return reply::ok();
    }
    if (event == "recent") {
      // Answers later, from the store: pushes "recent" {"seqs": [...]} to the asker.
      fetch_history(0, 2, [this, from](std::optional<history_page> page) {
        json::array seqs;
        if (page)
          for (const auto& m : page->messages) seqs.push_back(m.seq);
        push(from, "recent", json::object{{"seqs", std::move(seqs)}, {"ok", page.has_value()}});
      });
      return reply::ok();
    }
    broadcast("entry", payload);
    return reply::ok(json::object{{"mine", true}});
  }
  bool durable() const override { return true; }
};

class private_channel final : public channel {
 public:
  join_result on_join(const json::value&, const member&) override {
    return join_result::refuse("unauthorized");
  }
};

}  // namespace

bool room_is_sleeping() { return sleeping_room; }

void register_test_channels(server& srv) {
  srv.channel("echo:*", [](std::string_view) { return std::make_unique<echo_channel>(); });
  srv.channel("room:*", [](std::string_view) { return std::make_unique<room_channel>(); });
  srv.channel("private:*", [](std::string_view) { return std::make_unique<private_channel>(); });
  srv.channel("small:*", [](std::string_view) { return std::make_unique<small_budget_channel>(); });
  srv.channel("presence:*", [](std::string_view) { return std::make_unique<presence_channel>(); });
  srv.channel("journal:*", [](std::string_view) { return std::make_unique<journal_channel>(); });
}

std::unique_ptr<server> start_test_server(server_options options,
                                          const std::function<void(server&)>& configure) {
  options.host = "127.0.0.1";
  options.port = 0;
  options.io_threads = 2;
  options.actor_threads = 2;
  auto srv = std::make_unique<server>(options);
  register_test_channels(*srv);
  if (configure) configure(*srv);
  srv->start();
  return srv;
}

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

client::options client_options(const server& srv) {
  client::options o;
  o.port = srv.port();
  return o;
}

std::unique_ptr<client> connect(const server& srv) { return client::connect(client_options(srv)); }

reply_message join_ok(client& c, const std::string& topic, boost::json::value params) {
  auto r = await(c.join(topic, std::move(params)));
  EXPECT_TRUE(r.ok()) << "join " << topic << " failed: " << r.reason();
  return r;
}

std::optional<std::chrono::milliseconds> within(std::chrono::milliseconds limit,
                                                const std::function<bool()>& done) {
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < limit) {
    if (done())
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                   start);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

int loopback_connect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

http_result http_get(std::uint16_t port, const std::string& target, const std::string& headers,
                     const std::string& method) {
  return http_call(port, method, target, "", headers);
}

http_result http_post(std::uint16_t port, const std::string& target, const std::string& body,
                      const std::string& headers) {
  return http_call(port, "POST", target, body, headers);
}

http_result http_call(std::uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body, const std::string& headers) {
  return http_raw(port, method + " " + target +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers +
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

http_result http_raw(std::uint16_t port, const std::string& request) {
  int fd = loopback_connect(port);
  if (fd < 0) throw std::runtime_error("connect failed");
  if (::send(fd, request.data(), request.size(), 0) < 0) {
    ::close(fd);
    throw std::runtime_error("send failed");
  }
  std::string response;
  char buf[4096];
  for (;;) {
    // A 101 keeps the connection open: stop at the end of its headers.
    if (response.starts_with("HTTP/1.1 101") && response.find("\r\n\r\n") != std::string::npos) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    response.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  http_result result;
  if (response.size() > 12) result.status = std::stoi(response.substr(9, 3));
  if (auto start = response.find("\r\n\r\n"); start != std::string::npos) {
    result.headers = response.substr(0, start);
    result.body = response.substr(start + 4);
  }
  return result;
}

}  // namespace roomcast::testing
