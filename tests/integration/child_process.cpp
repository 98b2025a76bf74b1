#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace roomcast::testing {

child_process::~child_process() {
  if (pid > 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  if (stdout_fd >= 0) ::close(stdout_fd);
  if (stderr_fd >= 0) ::close(stderr_fd);
}

std::string child_process::drain_stderr() {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{stderr_fd, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) break;
    auto n = ::read(stderr_fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

long child_process::cpu_ticks() const {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close_paren = content.rfind(')');
  std::istringstream fields(content.substr(close_paren + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // fields 3..13
  long utime = 0, stime = 0;
  fields >> utime >> stime;
  return utime + stime;
}

std::string child_process::read_line(std::chrono::milliseconds timeout) {
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

int child_process::wait_exit(std::chrono::milliseconds timeout) {
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

long child_process::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::unique_ptr<child_process> spawn_server(const std::vector<std::string>& args,
                                            rlim_t max_open_files) {
  return spawn_program(ROOMCAST_SERVER_BIN, args, max_open_files);
}

std::unique_ptr<child_process> spawn_program(const std::string& program,
                                             const std::vector<std::string>& args,
                                             rlim_t max_open_files) {
  int fds[2];
  int err[2];
  if (::pipe(fds) != 0 || ::pipe(err) != 0) throw std::runtime_error("pipe failed");
  auto child = std::make_unique<child_process>();
  child->pid = ::fork();
  if (child->pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::close(err[0]);
    ::close(err[1]);
    if (max_open_files) {
      rlimit limit{max_open_files, max_open_files};
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
    std::vector<char*> argv;
    std::string bin = program;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  ::close(err[1]);
  child->stdout_fd = fds[0];
  child->stderr_fd = err[0];
  return child;
}

std::uint16_t listening_port(child_process& child) {
  auto line = child.read_line(std::chrono::seconds(10));
  std::smatch m;
  if (!std::regex_match(line, m, std::regex(R"(listening on https?://127\.0\.0\.1:(\d+))")))
    throw std::runtime_error("no listening line, got: '" + line + "'");
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

}  // namespace roomcast::testing
