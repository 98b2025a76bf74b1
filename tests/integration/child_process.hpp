#pragma once
// The server binary (build/bin/roomcast) as a child process: its stdout line,
// its stderr, its CPU time and memory, and its exit.

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace roomcast::testing {

struct child_process {
  pid_t pid = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;

  ~child_process();
  /// Reads one line from the child's stdout within `timeout`.
  std::string read_line(std::chrono::milliseconds timeout);
  /// Everything the child wrote to stderr so far (non-blocking).
  std::string drain_stderr();
  /// User + system CPU time of the child, in clock ticks.
  long cpu_ticks() const;
  /// Resident memory (VmRSS) in KiB.
  long rss_kib() const;
  /// Exit status after `timeout`, or -1 if still running.
  int wait_exit(std::chrono::milliseconds timeout);
};

/// Starts build/bin/roomcast with `args` (and at most `max_open_files` descriptors).
std::unique_ptr<child_process> spawn_server(const std::vector<std::string>& args,
                                           rlim_t max_open_files = 0);

/// Starts `program` with `args`.
std::unique_ptr<child_process> spawn_program(const std::string& program,
                                             const std::vector<std::string>& args,
                                             rlim_t max_open_files = 0);

/// The port of the child's "listening on http://127.0.0.1:PORT" line.
std::uint16_t listening_port(child_process& child);

}  // namespace roomcast::testing
