#include "store/message_store.hpp"

#include "actors/topic_pattern.hpp"
#include "store/schema.hpp"

#include <algorithm>
#include <filesystem>

namespace roomcast::store {

std::string with_seq(std::string_view body, std::uint64_t seq) {
  std::string out = "{\"seq\":" + std::to_string(seq);
  std::string_view rest = body.size() >= 2 ? body.substr(1) : std::string_view("}");
  if (rest.front() != '}') out += ',';
  out += rest;
  return out;
}

struct message_store::statements {
  explicit statements(database& db)
      : insert(db.prepare("INSERT INTO messages (topic, seq, event, payload, ts_ms) "
                          "VALUES (?, ?, ?, ?, ?)")),
        save_last(db.prepare("INSERT INTO topics (topic, last_seq) VALUES (?, ?) "
                             "ON CONFLICT (topic) DO UPDATE SET last_seq = excluded.last_seq")),
        load_last(db.prepare("SELECT last_seq FROM topics WHERE topic = ?")),
        trim_count(db.prepare("DELETE FROM messages WHERE topic = ? AND seq <= ?")),
        trim_age(db.prepare("DELETE FROM messages WHERE topic = ? AND ts_ms < ?")),
        oldest(db.prepare("SELECT min(seq) FROM messages WHERE topic = ?")),
        latest(db.prepare("SELECT seq, event, payload, ts_ms FROM messages "
                          "WHERE topic = ? AND seq > ? ORDER BY seq DESC LIMIT ?")),
        all_topics(db.prepare("SELECT topic FROM topics")) {}

  statement insert, save_last, load_last, trim_count, trim_age, oldest, latest, all_topics;
};

message_store::message_store(std::string path, store_options options)
    : path_(std::move(path)), options_(std::move(options)) {}

message_store::~message_store() { close(); }

void message_store::open() {
  close();
  auto parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);  // open() reports what matters
  }
  database db(path_);
  db.busy_timeout(static_cast<int>(options_.busy_timeout.count()));
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(options_.sync == store_sync::full ? "PRAGMA synchronous = FULL"
                                            : "PRAGMA synchronous = NORMAL");
  if (options_.max_bytes > 0) {
    auto page = static_cast<std::uint64_t>(db.query_int("PRAGMA page_size"));
    db.exec("PRAGMA max_page_count = " + std::to_string(std::max<std::uint64_t>(1, options_.max_bytes / page)));
  }
  migrate(db);
  db_.emplace(std::move(db));
  stmts_ = std::make_unique<statements>(*db_);
}

void message_store::close() noexcept {
  stmts_.reset();
  db_.reset();
  last_seq_.clear();
}

const retention& message_store::retention_for(std::string_view topic) const {
  for (const auto& rule : options_.durable)
    if (actors::topic_matches(rule.pattern, topic)) return rule.keep;
  return options_.default_retention;
}

std::uint64_t message_store::last_seq(const std::string& topic) {
  if (auto it = last_seq_.find(topic); it != last_seq_.end()) return it->second;
  auto& q = stmts_->load_last;
  q.bind(1, topic);
  std::uint64_t seq = q.step() ? static_cast<std::uint64_t>(q.column_int(0)) : 0;
  q.reset();
  last_seq_.emplace(topic, seq);
  return seq;
}

std::vector<std::uint64_t> message_store::append(const std::vector<append_group>& groups,
                                                 std::int64_t now_ms) {
  if (!is_open()) throw std::logic_error("store is not open");
  std::vector<std::uint64_t> firsts;
  firsts.reserve(groups.size());
  std::unordered_map<std::string, std::uint64_t> updated;  // topic -> new last seq
  try {
    in_transaction(*db_, [&] {
      for (const auto& group : groups) {
        auto next = (updated.count(group.topic) ? updated[group.topic] : last_seq(group.topic)) + 1;
        firsts.push_back(next);
        for (const auto& record : group.records) {
          stmts_->insert.bind(1, group.topic)
              .bind(2, static_cast<std::int64_t>(next))
              .bind(3, record.event)
              .bind(4, with_seq(record.body, next))
              .bind(5, now_ms)
              .run();
          ++next;
        }
        updated[group.topic] = next - 1;
      }
      for (const auto& [topic, last] : updated) {
        stmts_->save_last.bind(1, topic).bind(2, static_cast<std::int64_t>(last)).run();
        auto keep = retention_for(topic).max_messages;
        if (keep > 0 && last > keep)
          stmts_->trim_count.bind(1, topic).bind(2, static_cast<std::int64_t>(last - keep)).run();
      }
    });
  } catch (...) {
    // Nothing was stored: the cached numbers of these topics may be ahead.
    for (const auto& group : groups) last_seq_.erase(group.topic);
    throw;
  }
  for (const auto& [topic, last] : updated) last_seq_[topic] = last;
  return firsts;
}

history_page message_store::read(const std::string& topic, std::uint64_t since,
                                 std::size_t limit) {
  if (!is_open()) throw std::logic_error("store is not open");
  history_page page;
  page.last_seq = last_seq(topic);
  auto& oldest = stmts_->oldest;
  oldest.bind(1, topic);
  page.oldest_seq = oldest.step() && !oldest.column_is_null(0)
                        ? static_cast<std::uint64_t>(oldest.column_int(0))
                        : page.last_seq + 1;
  oldest.reset();
  auto& q = stmts_->latest;
  q.bind(1, topic)
      .bind(2, static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX)))
      .bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (q.step())
    page.messages.push_back(stored_message{static_cast<std::uint64_t>(q.column_int(0)),
                                           q.column_text(1), q.column_text(2), q.column_int(3)});
  q.reset();
  std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

void message_store::probe() {
  if (!is_open()) throw std::logic_error("store is not open");
  in_transaction(*db_, [&] { db_->exec("UPDATE schema_version SET version = version"); });
}

std::uint64_t message_store::sweep(std::int64_t now_ms) {
  if (!is_open()) return 0;
  std::vector<std::string> topics;
  auto& all = stmts_->all_topics;
  while (all.step()) topics.push_back(all.column_text(0));
  all.reset();
  std::uint64_t deleted = 0;
  in_transaction(*db_, [&] {
    for (const auto& topic : topics) {
      auto age = retention_for(topic).max_age;
      if (age.count() <= 0) continue;
      auto cutoff = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
      stmts_->trim_age.bind(1, topic).bind(2, cutoff).run();
      deleted += static_cast<std::uint64_t>(db_->changes());
    }
  });
  return deleted;
}

}  // namespace roomcast::store
