#include "arena_room.hpp"

namespace arena {

namespace json = boost::json;
using roomcast::join_result;
using roomcast::reply;

namespace {

const char* reason_of(claim_error e) {
  switch (e) {
    case claim_error::no_such_room: return "no_such_room";
    case claim_error::expired: return "seat_expired";
    case claim_error::invalid_token: break;
  }
  return "invalid_seat_token";
}

/// A display name: 1-16 printable ASCII characters, else "player N".
std::string name_of(const json::object& params, std::size_t seat) {
  if (const auto* n = params.if_contains("name"); n && n->is_string()) {
    std::string_view name = n->get_string();
    bool printable = !name.empty() && name.size() <= 16;
    for (char c : name) printable = printable && c >= 0x20 && c < 0x7f;
    if (printable) return std::string(name);
  }
  return "player " + std::to_string(seat + 1);
}

std::optional<int> small_int(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_int64() || v->get_int64() < -1 || v->get_int64() > 1) return std::nullopt;
  return static_cast<int>(v->get_int64());
}

}  // namespace

arena_room::arena_room(std::string room, std::shared_ptr<matchmaker> seats, room_settings settings,
                       std::shared_ptr<tick_stats> stats)
    : room_(std::move(room)),
      seats_(std::move(seats)),
      settings_(settings),
      game_(std::random_device{}()),
      stats_(std::move(stats)) {}

join_result arena_room::on_join(const json::value& params, const roomcast::member& who) {
  if (ended_) return join_result::refuse("room_ended");
  const auto* obj = params.if_object();
  static const json::object none;
  const auto& p = obj ? *obj : none;
  join_result result = join_result::refuse("seat_token or spectate required");
  if (p.contains("seat_token")) {
    result = join_as_player(p, who);
  } else if (const auto* s = p.if_contains("spectate"); s && s->is_bool() && s->get_bool()) {
    if (!seats_->exists(room_)) return join_result::refuse("no_such_room");
    result = join_result::accept(json::object{{"spectator", true},
                                              {"tick_ms", settings_.tick.count()},
                                              {"world", world_size},
                                              {"roster", roster()}});
  }
  if (result.accepted() && !ticker_) {
    first_tick_due_ = clock::now() + settings_.tick;
    ticker_ = send_every(settings_.tick, [this] { tick(); });
  }
  return result;
}

join_result arena_room::join_as_player(const json::object& params, const roomcast::member& who) {
  const auto* token = params.if_contains("seat_token");
  if (!token->is_string()) return join_result::refuse("invalid_seat_token");
  claim_error why{};
  bool resumed = false;
  auto seat = seats_->claim(room_, std::string(token->get_string()), clock::now(), &why, &resumed);
  if (!seat) return join_result::refuse(reason_of(why));
  if (auto old = holders_.find(*seat); old != holders_.end())
    seat_of_member_.erase(old->second.member_id);  // a reconnect took the seat over
  holders_[*seat] = {who.id(), std::string(token->get_string())};
  seat_of_member_[who.id()] = *seat;
  if (resumed && game_.players().count(*seat)) {
    game_.set_connected(*seat, true);  // back within the grace: same place, same score
  } else {
    game_.remove_player(*seat);  // nobody's leftovers for a new player
    game_.add_player(*seat, name_of(params, *seat));
  }
  auto players = roster();
  broadcast("roster", players);  // to the others; the joiner gets it in the reply
  return join_result::accept(json::object{{"seat", *seat},
                                          {"tick_ms", settings_.tick.count()},
                                          {"world", world_size},
                                          {"roster", std::move(players)}});
}

reply arena_room::on_event(std::string_view event, const json::value& payload,
                           const roomcast::member& from) {
  if (event != "input") return channel::on_event(event, payload, from);
  auto seat = seat_of_member_.find(from.id());
  if (seat == seat_of_member_.end()) return reply::error("not_a_player");
  const auto* obj = payload.if_object();
  auto dx = obj ? small_int(*obj, "dx") : std::nullopt;
  auto dy = obj ? small_int(*obj, "dy") : std::nullopt;
  if (!dx || !dy) return reply::error("input is {\"dx\": -1|0|1, \"dy\": -1|0|1}");
  game_.set_input(seat->second, *dx, *dy);  // applied at the next tick
  return reply::none();  // inputs are fire-and-forget: the next snapshot shows them
}

void arena_room::on_leave(const roomcast::member& who, roomcast::leave_reason) {
  auto it = seat_of_member_.find(who.id());
  if (it == seat_of_member_.end()) return;  // a spectator, or a player taken over
  auto seat = it->second;
  seat_of_member_.erase(it);
  auto& h = holders_.at(seat);
  seats_->release(room_, h.token, clock::now());
  game_.set_connected(seat, false);
  broadcast("roster", roster());
}

void arena_room::tick() {
  auto due = first_tick_due_ + settings_.tick * tick_;
  stats_->record(std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - due));
  ++tick_;
  free_expired_seats();
  game_.step(std::chrono::duration<double>(settings_.tick).count());
  broadcast_binary("state", game_.snapshot(tick_));
  if (seats_->occupied(room_)) {
    empty_since_.reset();
    return;
  }
  auto now = clock::now();
  if (!empty_since_) empty_since_ = now;
  if (now - *empty_since_ >= settings_.empty_timeout && seats_->end_if_unoccupied(room_)) end_game();
}

void arena_room::free_expired_seats() {
  auto freed = seats_->expire(room_, clock::now());
  bool changed = false;
  for (auto seat : freed) {
    // Only seats whose player is gone: a taken seat never expires.
    if (holders_.erase(seat) > 0) {
      game_.remove_player(seat);
      changed = true;
    }
  }
  if (changed) broadcast("roster", roster());
}

void arena_room::end_game() {
  ended_ = true;
  if (ticker_) cancel_timer(*ticker_);
  broadcast("ended", json::object{{"reason", "no players"}});
}

json::object arena_room::roster() const {
  json::array players;
  for (const auto& [seat, p] : game_.players())
    players.push_back(json::object{{"seat", seat}, {"name", p.name}, {"connected", p.connected},
                                   {"score", p.score}});
  return json::object{{"players", std::move(players)}};
}

}  // namespace arena
