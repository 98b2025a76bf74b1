#pragma once
// The arena's rules, with no I/O: players move in a square world and collect
// coins. The room actor owns one game and steps it at the tick rate; the state
// goes out as a compact binary snapshot (docs/arena.md has the layout).

#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace arena {

inline constexpr double world_size = 1000;     // units per side
inline constexpr double player_speed = 250;    // units per second
inline constexpr double pickup_radius = 30;
inline constexpr std::size_t coin_count = 5;

struct player {
  std::string name;
  double x = 0, y = 0;
  int dx = 0, dy = 0;  // the last input: -1, 0 or 1 on each axis
  std::uint16_t score = 0;
  bool connected = true;
};

struct coin {
  double x = 0, y = 0;
};

class game {
 public:
  explicit game(std::uint64_t seed);

  void add_player(std::size_t seat, std::string name);
  void remove_player(std::size_t seat);
  void set_connected(std::size_t seat, bool connected);
  /// Clamped to -1..1 per axis; unknown seats are ignored.
  void set_input(std::size_t seat, int dx, int dy);
  /// Advances by `dt` seconds: moves players (diagonals not faster), collects coins.
  void step(double dt);

  /// tick u32, players u8, {seat u8, flags u8 (1: connected), x u16, y u16,
  /// score u16} each, coins u8, {x u16, y u16} each; little-endian.
  [[nodiscard]] std::string snapshot(std::uint32_t tick) const;

  [[nodiscard]] const std::map<std::size_t, player>& players() const { return players_; }
  [[nodiscard]] const std::vector<coin>& coins() const { return coins_; }

 private:
  coin random_coin();

  std::map<std::size_t, player> players_;  // by seat
  std::vector<coin> coins_;
  std::mt19937_64 random_;
};

}  // namespace arena
