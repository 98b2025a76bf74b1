// build/bin/roomcast-chat: the bundled chat demo. Logs users in with a name
// (POST /api/login hands out an HS256 token), serves durable rooms "room:NAME"
// with presence and typing, and the web UI (apps/chat/web, bundled at build time).
// The protocol is in docs/chat.md.
#include "chat_app.hpp"
#include "login.hpp"
#include "server_cli.hpp"

#include <iostream>

#ifndef ROOMCAST_CHAT_WEB_DIR
#define ROOMCAST_CHAT_WEB_DIR "web"
#endif

int main(int argc, char** argv) {
  roomcast::server_options options;
  std::string web_dir = ROOMCAST_CHAT_WEB_DIR;
  long token_ttl_s = 3600;
  if (auto code = roomcast::cli::parse(
          argc, argv, "roomcast-chat", options,
          {{"web-dir", &web_dir, "directory of the web UI (the bundle made at build time)"}},
          {{"token-ttl-s", &token_ttl_s, "lifetime of the tokens /api/login hands out, in seconds"}}))
    return *code;
  if (token_ttl_s <= 0) {
    std::cerr << "roomcast-chat: --token-ttl-s must be > 0\n";
    return 2;
  }
  if (!options.tokens.algorithm.empty() && options.tokens.algorithm != "HS256") {
    std::cerr << "roomcast-chat: the demo signs its own tokens: --token-algorithm must be HS256\n";
    return 2;
  }
  chat::app_settings settings{options.tokens.secret, std::chrono::seconds(token_ttl_s), web_dir};
  try {
    // Configured (--token-secret), else kept in the data directory across restarts.
    if (settings.secret.empty()) settings.secret = chat::load_or_create_secret(options.data_dir);
  } catch (const std::exception& e) {
    std::cerr << "roomcast-chat: " << e.what() << "\n";
    return 1;
  }
  roomcast::server server(chat::with_chat_tokens(options, settings.secret));
  try {
    chat::install(server, settings);
  } catch (const std::exception& e) {
    std::cerr << "roomcast-chat: " << e.what()
              << " (the web UI is bundled at build time: run scripts/setup.sh, then build)\n";
    return 1;
  }
  return roomcast::cli::run(server);
}
