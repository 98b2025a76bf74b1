#include "game.hpp"

#include <algorithm>
#include <cmath>

namespace arena {

namespace {

void put_u16(std::string& out, double value) {
  auto v = static_cast<std::uint16_t>(std::clamp(value, 0.0, 65535.0));
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>(v >> 8);
}

int unit(int v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }

}  // namespace

game::game(std::uint64_t seed) : random_(seed) {
  for (std::size_t i = 0; i < coin_count; ++i) coins_.push_back(random_coin());
}

coin game::random_coin() {
  std::uniform_real_distribution<double> where(pickup_radius, world_size - pickup_radius);
  return {where(random_), where(random_)};
}

void game::add_player(std::size_t seat, std::string name) {
  auto& p = players_[seat];
  p.name = std::move(name);
  // Spawn points around the centre, one per seat.
  double angle = static_cast<double>(seat) * 0.785398;  // 45 degrees apart
  p.x = world_size / 2 + 300 * std::cos(angle);
  p.y = world_size / 2 + 300 * std::sin(angle);
  p.connected = true;
}

void game::remove_player(std::size_t seat) { players_.erase(seat); }

void game::set_connected(std::size_t seat, bool connected) {
  if (auto it = players_.find(seat); it != players_.end()) {
    it->second.connected = connected;
    if (!connected) it->second.dx = it->second.dy = 0;  // a dropped player stands still
  }
}

void game::set_input(std::size_t seat, int dx, int dy) {
  if (auto it = players_.find(seat); it != players_.end()) {
    it->second.dx = unit(dx);
    it->second.dy = unit(dy);
  }
}

void game::step(double dt) {
  for (auto& [seat, p] : players_) {
    if (p.dx == 0 && p.dy == 0) continue;
    double scale = (p.dx != 0 && p.dy != 0) ? 0.70710678 : 1.0;
    p.x = std::clamp(p.x + p.dx * scale * player_speed * dt, 0.0, world_size);
    p.y = std::clamp(p.y + p.dy * scale * player_speed * dt, 0.0, world_size);
    for (auto& c : coins_)
      if (std::hypot(c.x - p.x, c.y - p.y) <= pickup_radius) {
        ++p.score;
        c = random_coin();
      }
  }
}

std::string game::snapshot(std::uint32_t tick) const {
  std::string out;
  out.reserve(6 + players_.size() * 8 + coins_.size() * 4);
  for (int i = 0; i < 4; ++i) out += static_cast<char>((tick >> (8 * i)) & 0xff);
  out += static_cast<char>(players_.size());
  for (const auto& [seat, p] : players_) {
    out += static_cast<char>(seat);
    out += static_cast<char>(p.connected ? 1 : 0);
    put_u16(out, p.x);
    put_u16(out, p.y);
    put_u16(out, p.score);
  }
  out += static_cast<char>(coins_.size());
  for (const auto& c : coins_) {
    put_u16(out, c.x);
    put_u16(out, c.y);
  }
  return out;
}

}  // namespace arena
