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
      : insert(db.prepare("INSERT INTO events (topic_id, seq, event, payload, ts_ms) "
                          "VALUES (?, ?, ?, ?, ?)")),
        find_topic(db.prepare("SELECT id, last_seq FROM topics WHERE name = ?")),
        add_topic(db.prepare("INSERT INTO topics (name, last_seq) VALUES (?, 0)")),
        save_last(db.prepare("UPDATE topics SET last_seq = ? WHERE id = ?")),
        trim_count(db.prepare("DELETE FROM events WHERE topic_id = ? AND seq <= ?")),
        // Within a topic, commit time grows with seq: everything before the first
        // message young enough goes (this reads only what it deletes, plus one).
        trim_age(db.prepare(
            "DELETE FROM events WHERE topic_id = ?1 AND seq < coalesce("
            "(SELECT seq FROM events WHERE topic_id = ?1 AND ts_ms >= ?2 ORDER BY seq LIMIT 1),"
            " 9223372036854775807)")),
        oldest(db.prepare("SELECT min(seq) FROM events WHERE topic_id = ?")),
        latest(db.prepare("SELECT seq, event, payload, ts_ms FROM events "
                          "WHERE topic_id = ? AND seq > ? ORDER BY seq DESC LIMIT ?")),
        after(db.prepare("SELECT seq, event, payload, ts_ms FROM events "
                         "WHERE topic_id = ? AND seq > ? ORDER BY seq LIMIT ?")),
        all_topics(db.prepare("SELECT id, name FROM topics")) {}

  statement insert, find_topic, add_topic, save_last, trim_count, trim_age, oldest, latest, after,
      all_topics;
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
  // Fewer, larger checkpoints (each rewrites pages into the database file), and
  // a cache that holds every topic's hot pages between commits.
  db.exec("PRAGMA wal_autocheckpoint = 10000");
  db.exec("PRAGMA journal_size_limit = 67108864");
  db.exec("PRAGMA cache_size = -32768");
  if (options_.max_bytes > 0) {
    auto page = static_cast<std::uint64_t>(db.query_int("PRAGMA page_size"));
    db.exec("PRAGMA max_page_count = " +
            std::to_string(std::max<std::uint64_t>(1, options_.max_bytes / page)));
  }
  migrate(db);
  db_.emplace(std::move(db));
  stmts_ = std::make_unique<statements>(*db_);
}

void message_store::close() noexcept {
  stmts_.reset();
  db_.reset();
  topics_.clear();
}

const retention& message_store::retention_for(std::string_view topic) const {
  for (const auto& rule : options_.durable)
    if (actors::topic_matches(rule.pattern, topic)) return rule.keep;
  return options_.default_retention;
}

message_store::topic_state* message_store::find(const std::string& topic, bool create) {
  if (auto it = topics_.find(topic); it != topics_.end()) return &it->second;
  auto& q = stmts_->find_topic;
  q.bind(1, topic);
  std::optional<topic_state> found;
  if (q.step())
    found = topic_state{q.column_int(0), static_cast<std::uint64_t>(q.column_int(1))};
  q.reset();
  if (!found) {
    if (!create) return nullptr;
    stmts_->add_topic.bind(1, topic).run();
    found = topic_state{db_->last_insert_id(), 0};
  }
  return &topics_.emplace(topic, *found).first->second;
}

std::vector<std::uint64_t> message_store::append(const std::vector<append_group>& groups,
                                                 std::int64_t now_ms) {
  if (!is_open()) throw std::logic_error("store is not open");
  std::vector<std::uint64_t> firsts;
  firsts.reserve(groups.size());
  std::vector<std::pair<const std::string*, topic_state*>> touched;
  try {
    in_transaction(*db_, [&] {
      for (const auto& group : groups) {
        topic_state* topic = find(group.topic, true);
        if (std::find_if(touched.begin(), touched.end(),
                         [&](const auto& t) { return t.second == topic; }) == touched.end())
          touched.emplace_back(&group.topic, topic);
        firsts.push_back(topic->last_seq + 1);
        for (const auto& record : group.records) {
          auto seq = ++topic->last_seq;
          std::string payload = with_seq(record.body, seq);
          stmts_->insert.bind(1, topic->id)
              .bind(2, static_cast<std::int64_t>(seq))
              .bind(3, record.event)
              .bind(4, payload)
              .bind(5, now_ms)
              .run();
        }
      }
      for (const auto& [name, topic] : touched) {
        stmts_->save_last.bind(1, static_cast<std::int64_t>(topic->last_seq)).bind(2, topic->id).run();
        auto keep = retention_for(*name).max_messages;
        if (keep > 0 && topic->last_seq > keep)
          stmts_->trim_count.bind(1, topic->id)
              .bind(2, static_cast<std::int64_t>(topic->last_seq - keep))
              .run();
      }
    });
  } catch (...) {
    // Nothing was stored: the cached numbers (and new topic ids) are void.
    topics_.clear();
    throw;
  }
  return firsts;
}

history_page message_store::read(const std::string& topic, std::uint64_t since,
                                 std::size_t limit, bool latest) {
  if (!is_open()) throw std::logic_error("store is not open");
  history_page page;
  topic_state* state = find(topic, false);
  if (!state) {
    page.oldest_seq = 1;
    return page;
  }
  page.last_seq = state->last_seq;
  auto& oldest = stmts_->oldest;
  oldest.bind(1, state->id);
  page.oldest_seq = oldest.step() && !oldest.column_is_null(0)
                        ? static_cast<std::uint64_t>(oldest.column_int(0))
                        : page.last_seq + 1;
  oldest.reset();
  auto& q = latest ? stmts_->latest : stmts_->after;
  q.bind(1, state->id)
      .bind(2, static_cast<std::int64_t>(std::min<std::uint64_t>(since, INT64_MAX)))
      .bind(3, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (q.step())
    page.messages.push_back(stored_message{static_cast<std::uint64_t>(q.column_int(0)),
                                           q.column_text(1), q.column_text(2), q.column_int(3)});
  q.reset();
  if (latest) std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

void message_store::probe() {
  if (!is_open()) throw std::logic_error("store is not open");
  in_transaction(*db_, [&] { db_->exec("UPDATE schema_version SET version = version"); });
}

std::uint64_t message_store::sweep(std::int64_t now_ms) {
  if (!is_open()) return 0;
  std::vector<std::pair<std::int64_t, std::string>> topics;
  auto& all = stmts_->all_topics;
  while (all.step()) topics.emplace_back(all.column_int(0), all.column_text(1));
  all.reset();
  std::uint64_t deleted = 0;
  in_transaction(*db_, [&] {
    for (const auto& [id, name] : topics) {
      auto age = retention_for(name).max_age;
      if (age.count() <= 0) continue;
      auto cutoff = now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
      stmts_->trim_age.bind(1, id).bind(2, cutoff).run();
      deleted += static_cast<std::uint64_t>(db_->changes());
    }
  });
  return deleted;
}

}  // namespace roomcast::store
