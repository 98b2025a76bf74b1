// The server binary's configuration: a file, ROOMCAST_* variables and flags,
// their precedence, --print-config, and errors that name the key.
#include "child_process.hpp"
#include "common/temp_dir.hpp"
#include "test_server.hpp"

#include <cstdlib>
#include <fstream>
#include <map>

namespace roomcast::testing {
namespace {

struct run_result {
  int exit_code = -1;
  std::map<std::string, std::string> config;  // key -> value, from --print-config
  std::string printed;
  std::string errors;
};

/// Runs the binary to completion (it exits at once with --print-config or on a
/// bad argument) and reads what it printed.
run_result run(const std::vector<std::string>& args) {
  auto child = spawn_server(args);
  run_result r;
  for (;;) {
    auto line = child->read_line(wait_limit);
    if (line.empty()) break;
    r.printed += line + "\n";
    if (auto eq = line.find(" = "); eq != std::string::npos && line[0] != '#')
      r.config[line.substr(0, eq)] = line.substr(eq + 3);
  }
  r.exit_code = child->wait_exit(wait_limit);
  r.errors = child->drain_stderr();
  return r;
}

std::string write_file(const temp_dir& dir, const std::string& name, const std::string& text) {
  auto path = dir.file(name);
  std::ofstream(path) << text;
  return path;
}

class ConfigTest : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("ROOMCAST_PORT"); }
  temp_dir dir_;
};

TEST_F(ConfigTest, FlagsBeatVariablesBeatTheFileBeatDefaults) {
  auto file = write_file(dir_, "a.conf", "port = 5001\nmax-frame-bytes = 2048\ndurable = room:*\n");
  auto from_file = run({"--config", file, "--print-config"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.errors;
  EXPECT_EQ(from_file.config["port"], "5001");
  EXPECT_EQ(from_file.config["max-frame-bytes"], "2048");
  EXPECT_EQ(from_file.config["durable"], "room:*");
  EXPECT_EQ(from_file.config["heartbeat-timeout-ms"], "60000") << "a default";

  ::setenv("ROOMCAST_PORT", "5002", 1);
  EXPECT_EQ(run({"--config", file, "--print-config"}).config["port"], "5002");
  auto flag = run({"--config", file, "--port", "5003", "--print-config"});
  EXPECT_EQ(flag.config["port"], "5003");
  EXPECT_EQ(flag.config["max-frame-bytes"], "2048") << "still from the file";
}

TEST_F(ConfigTest, ConfigFileFromTheEnvironment) {
  auto file = write_file(dir_, "b.conf", "heartbeat-timeout-ms = 1234\n");
  ::setenv("ROOMCAST_CONFIG", file.c_str(), 1);
  auto r = run({"--print-config"});
  ::unsetenv("ROOMCAST_CONFIG");
  EXPECT_EQ(r.config["heartbeat-timeout-ms"], "1234");
}

TEST_F(ConfigTest, AnEmptyVariableDoesNotOverrideTheFile) {
  auto file = write_file(dir_, "t.conf", "token-algorithm = HS256\ntoken-secret = s\n");
  ::setenv("ROOMCAST_TOKEN_ALGORITHM", "", 1);  // an unset template variable, rendered empty
  auto r = run({"--config", file, "--print-config"});
  ::unsetenv("ROOMCAST_TOKEN_ALGORITHM");
  EXPECT_EQ(r.config["token-algorithm"], "HS256") << "an empty value must not switch tokens off";
}

TEST_F(ConfigTest, TokenSettingsWithoutAnAlgorithmRefuseToStart) {
  auto r = run({"--port", "0", "--token-secret", "s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.errors.find("without a token algorithm"), std::string::npos) << r.errors;
  auto key = run({"--port", "0", "--token-algorithm", "RS256", "--token-public-key",
                  dir_.file("missing.pem")});
  EXPECT_EQ(key.exit_code, 1);
  EXPECT_NE(key.errors.find("cannot read token key file"), std::string::npos) << key.errors;
}

TEST_F(ConfigTest, PrintedConfigurationReadsBackTheSame) {
  auto first = run({"--port", "6001", "--durable", "a:*", "--durable", "b:*", "--overflow", "drop",
                    "--print-config"});
  ASSERT_EQ(first.exit_code, 0) << first.errors;
  auto file = write_file(dir_, "printed.conf", first.printed);
  auto second = run({"--config", file, "--print-config"});
  ASSERT_EQ(second.exit_code, 0) << second.errors;
  EXPECT_EQ(second.printed, first.printed);
}

TEST_F(ConfigTest, UnknownKeysAndBadValuesAreErrorsNamingTheKey) {
  auto unknown = run({"--config", write_file(dir_, "u.conf", "prot = 4000\n")});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.errors.find("prot"), std::string::npos) << unknown.errors;

  auto bad = run({"--config", write_file(dir_, "v.conf", "max-frame-bytes = lots\n")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.errors.find("max-frame-bytes"), std::string::npos) << bad.errors;

  auto policy = run({"--config", write_file(dir_, "w.conf", "overflow = sometimes\n")});
  EXPECT_EQ(policy.exit_code, 2);
  EXPECT_NE(policy.errors.find("--overflow"), std::string::npos) << policy.errors;

  ::setenv("ROOMCAST_PORT", "not-a-port", 1);
  auto env = run({"--print-config"});
  EXPECT_EQ(env.exit_code, 2);
  EXPECT_NE(env.errors.find("port"), std::string::npos) << env.errors;
  ::unsetenv("ROOMCAST_PORT");

  for (const auto& args : {std::vector<std::string>{"--io-threads", "-1"},
                           std::vector<std::string>{"--max-frame-bytes=-5"}}) {
    auto negative = run(args);
    EXPECT_EQ(negative.exit_code, 2) << args[0];
    EXPECT_NE(negative.errors.find("non-negative"), std::string::npos) << negative.errors;
  }
  auto negative_file = run({"--config", write_file(dir_, "n.conf", "max-connections = -3\n")});
  EXPECT_EQ(negative_file.exit_code, 2);

  auto missing = run({"--config", dir_.file("nope.conf")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.errors.find("nope.conf"), std::string::npos) << missing.errors;
}

}  // namespace
}  // namespace roomcast::testing
