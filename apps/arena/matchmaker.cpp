#include "matchmaker.hpp"

#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace arena {

std::optional<std::uint64_t> room_number(const std::string& room) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(room.data(), room.data() + room.size(), n);
  if (ec != std::errc() || end != room.data() + room.size() || room.empty() || room[0] == '0')
    return std::nullopt;
  return n;
}

matchmaker::matchmaker(matchmaker_settings settings) : settings_(settings) {
  if (settings_.capacity == 0) throw std::invalid_argument("arena capacity must be at least 1");
}

std::string matchmaker::new_token() {
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(random_()),
                static_cast<unsigned long long>(random_()));
  return text;
}

const matchmaker::room_seats* matchmaker::find_locked(const std::string& room) const {
  auto number = room_number(room);
  auto it = number ? rooms_.find(*number) : rooms_.end();
  return it == rooms_.end() ? nullptr : &it->second;
}

void matchmaker::retire(room_seats& r, seat& s) {
  r.expired_tokens.push_back(std::move(s.token));
  if (r.expired_tokens.size() > 4 * r.seats.size()) r.expired_tokens.pop_front();
  s = seat{};
}

std::size_t matchmaker::expire_locked(room_seats& r, clock::time_point now,
                                      std::vector<std::size_t>* freed, bool held_too) {
  std::size_t free_seats = 0;
  for (std::size_t i = 0; i < r.seats.size(); ++i) {
    auto& s = r.seats[i];
    bool ran_out = (s.state == seat_state::reserved || (held_too && s.state == seat_state::held)) &&
                   now >= s.until;
    if (ran_out) {
      retire(r, s);
      if (freed) freed->push_back(i);
    }
    if (s.state == seat_state::free) ++free_seats;
  }
  return free_seats;
}

reservation matchmaker::reserve(clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto& [number, open] : rooms_) {
    if (expire_locked(open, now, nullptr, false) == 0) continue;
    for (std::size_t i = 0; i < open.seats.size(); ++i)
      if (open.seats[i].state == seat_state::free) {
        open.seats[i] = seat{seat_state::reserved, new_token(), now + settings_.reservation_ttl};
        return {std::to_string(number), i, open.seats[i].token};
      }
  }
  auto number = next_room_++;
  auto& fresh = rooms_[number];
  fresh.seats.resize(settings_.capacity);
  fresh.seats[0] = seat{seat_state::reserved, new_token(), now + settings_.reservation_ttl};
  return {std::to_string(number), 0, fresh.seats[0].token};
}

std::optional<std::size_t> matchmaker::claim(const std::string& room, const std::string& token,
                                             clock::time_point now, claim_error* why,
                                             bool* resumed) {
  auto fail = [why](claim_error e) -> std::optional<std::size_t> {
    if (why) *why = e;
    return std::nullopt;
  };
  std::lock_guard lock(mutex_);
  auto* r = find_locked(room);
  if (!r) return fail(claim_error::no_such_room);
  for (std::size_t i = 0; i < r->seats.size(); ++i) {
    auto& s = r->seats[i];
    if (token.empty() || s.token != token) continue;
    bool waiting = s.state == seat_state::reserved || s.state == seat_state::held;
    if (waiting && now >= s.until) {
      // A held seat is the room's to free (it removes the player with it).
      if (s.state == seat_state::reserved) retire(*r, s);
      return fail(claim_error::expired);
    }
    if (resumed) *resumed = s.state != seat_state::reserved;
    s.state = seat_state::taken;
    return i;
  }
  for (const auto& old : r->expired_tokens)
    if (!token.empty() && old == token) return fail(claim_error::expired);
  return fail(claim_error::invalid_token);
}

void matchmaker::release(const std::string& room, const std::string& token, clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto* r = find_locked(room);
  if (!r) return;
  for (auto& s : r->seats)
    if (s.state == seat_state::taken && s.token == token) {
      s.state = seat_state::held;
      s.until = now + settings_.grace;
    }
}

std::vector<std::size_t> matchmaker::expire(const std::string& room, clock::time_point now) {
  std::vector<std::size_t> freed;
  std::lock_guard lock(mutex_);
  if (auto* r = find_locked(room)) expire_locked(*r, now, &freed, true);
  return freed;
}

bool matchmaker::occupied(const std::string& room) const {
  std::lock_guard lock(mutex_);
  const auto* r = find_locked(room);
  if (!r) return false;
  for (const auto& s : r->seats)
    if (s.state != seat_state::free) return true;
  return false;
}

bool matchmaker::end_if_unoccupied(const std::string& room) {
  std::lock_guard lock(mutex_);
  auto* r = find_locked(room);
  if (!r) return true;
  for (const auto& s : r->seats)
    if (s.state != seat_state::free) return false;
  if (auto number = room_number(room)) rooms_.erase(*number);
  return true;
}

void matchmaker::end(const std::string& room) {
  std::lock_guard lock(mutex_);
  if (auto number = room_number(room)) rooms_.erase(*number);
}

bool matchmaker::exists(const std::string& room) const {
  std::lock_guard lock(mutex_);
  return find_locked(room) != nullptr;
}

}  // namespace arena
