// Connection lifecycle: heartbeat timeout, graceful shutdown, and the server
// binary's conventions (listening line, SIGTERM -> 1001 + exit 0).
#include "test_server.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

namespace roomcast::testing {
namespace {

TEST(Heartbeat, SilentSocketIsClosedAfterTheTimeout) {
  server_options o;
  o.heartbeat_timeout = std::chrono::milliseconds(300);
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  join_ok(*c, "echo:hb");
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(c->wait_closed(wait_limit), 1000);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(200));
}

TEST(Heartbeat, HeartbeatsKeepTheSocketOpen) {
  server_options o;
  o.heartbeat_timeout = std::chrono::milliseconds(300);
  auto srv = start_test_server(o);
  auto c = connect(*srv);
  // Six heartbeats 100 ms apart span twice the timeout.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(await(c->heartbeat()).ok());
    EXPECT_FALSE(c->wait_closed(std::chrono::milliseconds(100)).has_value());
  }
  EXPECT_TRUE(c->is_open());
}

TEST(Shutdown, StopClosesEverySocketWith1001) {
  auto srv = start_test_server();
  auto a = connect(*srv);
  auto b = connect(*srv);
  join_ok(*a, "room:bye");
  join_ok(*b, "echo:bye");
  srv->stop();
  EXPECT_EQ(a->wait_closed(wait_limit), 1001);
  EXPECT_EQ(b->wait_closed(wait_limit), 1001);
  srv->stop();  // idempotent
}

// -- the server binary --------------------------------------------------------------------

struct child_process {
  pid_t pid = -1;
  int stdout_fd = -1;

  ~child_process() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (stdout_fd >= 0) ::close(stdout_fd);
  }

  /// Reads one line from the child's stdout within `timeout`.
  std::string read_line(std::chrono::milliseconds timeout) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{stdout_fd, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char ch;
      if (::read(stdout_fd, &ch, 1) != 1) break;
      if (ch == '\n') return line;
      line += ch;
    }
    return line;
  }

  /// Exit status after `timeout`, or -1 if still running.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      ::usleep(10'000);
    }
    return -1;
  }
};

std::unique_ptr<child_process> spawn_server(const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
  auto child = std::make_unique<child_process>();
  child->pid = ::fork();
  if (child->pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> argv;
    std::string bin = ROOMCAST_SERVER_BIN;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  child->stdout_fd = fds[0];
  return child;
}

TEST(ServerBinary, ListensOnAFreePortAndStopsGracefullyOnSigterm) {
  auto child = spawn_server({"--host", "127.0.0.1", "--port", "0"});
  auto line = child->read_line(std::chrono::seconds(10));
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, std::regex(R"(listening on http://127\.0\.0\.1:(\d+))")))
      << "got: '" << line << "'";
  client::options o;
  o.port = static_cast<std::uint16_t>(std::stoi(m[1]));
  auto c = client::connect(o);
  join_ok(*c, "echo:binary");
  auto r = await(c->push("echo:binary", "ping", boost::json::object{{"v", 1}}));
  EXPECT_EQ(r.response.at("v").as_int64(), 1);
  EXPECT_TRUE(c->wait_for("echo:binary", "ping", wait_limit)) << "echo:* broadcasts too";

  ::kill(child->pid, SIGTERM);
  EXPECT_EQ(c->wait_closed(wait_limit), 1001);
  EXPECT_EQ(child->wait_exit(wait_limit), 0);
}

TEST(ServerBinary, RejectsBadArguments) {
  auto child = spawn_server({"--port", "70000"});
  EXPECT_EQ(child->wait_exit(wait_limit), 2);
}

}  // namespace
}  // namespace roomcast::testing
