#include "api/auth_recorder.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace cordon::api {

AuthRecorder::AuthRecorder(Store& store, Options options) : store_(store), options_(options) {}

AuthRecorder::~AuthRecorder() { Stop(); }

void AuthRecorder::Refused(Refusal r) {
  std::string key;
  key.reserve(r.event.size() + r.client_address.size() + r.token_id.size() + r.route_class.size() + 3);
  key.append(r.event)
      .append(1, '\0')
      .append(r.client_address)
      .append(1, '\0')
      .append(r.token_id)
      .append(1, '\0')
      .append(r.route_class);
  std::lock_guard lock(mu_);
  auto it = refusals_.find(key);
  if (it == refusals_.end()) {
    if (refusals_.size() >= options_.max_keys) {
      Pending& other = overflow_[r.event];
      if (other.count == 0) {
        other.event = r.event;
        other.actor = r.event == "auth.forbidden" ? "various" : "anonymous";
        other.route_class = "various";
        other.detail = fmt::format("refusals beyond {} distinct addresses, tokens and routes; the first: {}",
                                   options_.max_keys, r.detail);
        other.first = r.at;
      }
      other.last = std::max(other.last, r.at);
      ++other.count;
      return;
    }
    Pending p;
    p.event = std::move(r.event);
    p.client_address = std::move(r.client_address);
    p.actor = std::move(r.actor);
    p.token_id = std::move(r.token_id);
    p.route_class = std::move(r.route_class);
    p.detail = std::move(r.detail);
    p.first = r.at;
    it = refusals_.emplace(std::move(key), std::move(p)).first;
  }
  it->second.last = std::max(it->second.last, r.at);
  ++it->second.count;
}

void AuthRecorder::Used(const std::string& token_id, TimePoint now) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = noted_.try_emplace(token_id, now);
  if (!fresh) {
    if (now - it->second < options_.touch_interval) return;
    it->second = now;
  }
  touches_.emplace_back(token_id, now);
}

AuditEvent AuthRecorder::ToAudit(const Pending& p) {
  AuditEvent e;
  e.at = p.first;
  e.actor = p.actor;
  e.actor_token = p.token_id;
  e.client_address = p.client_address;
  e.count = p.count;
  e.event = p.event;
  e.detail = p.count == 1 ? fmt::format("{}; route {}", p.detail, p.route_class)
                          : fmt::format("{}; route {}; {} times from {} to {}", p.detail, p.route_class, p.count,
                                        FormatTime(p.first), FormatTime(p.last));
  return e;
}

Status AuthRecorder::Flush() {
  std::lock_guard flush_lock(flush_mu_);
  std::unordered_map<std::string, Pending> refusals, overflow;
  std::vector<std::pair<std::string, TimePoint>> touches;
  {
    std::lock_guard lock(mu_);
    refusals.swap(refusals_);
    overflow.swap(overflow_);
    touches.swap(touches_);
    // A token not used for a whole touch interval is noted again at its next use.
    const TimePoint now = Now();
    std::erase_if(noted_, [&](const auto& entry) { return now - entry.second >= options_.touch_interval; });
  }

  Status result;
  std::vector<AuditEvent> rows = std::move(retry_);
  retry_.clear();
  rows.reserve(rows.size() + refusals.size() + overflow.size());
  for (const auto& [key, p] : refusals) rows.push_back(ToAudit(p));
  for (const auto& [event, p] : overflow) rows.push_back(ToAudit(p));
  if (!rows.empty()) {
    if (auto st = store_.AppendAudit(rows); !st) {
      // Kept for the next flush, within the bound of one interval's rows.
      const size_t keep = std::min(rows.size(), options_.max_keys + 2);
      spdlog::error("api: cannot write {} aggregated refusal(s) to the audit trail ({}); {} kept for the next try",
                    rows.size(), st.error().message, keep);
      rows.resize(keep);
      retry_ = std::move(rows);
      result = st;
    }
  }
  if (!touches.empty()) {
    if (auto st = store_.TouchTokens(touches); !st) {
      spdlog::warn("api: cannot record when {} token(s) were last used: {}", touches.size(), st.error().message);
      if (result) result = st;
    }
  }
  return result;
}

void AuthRecorder::Start() {
  std::lock_guard lock(run_mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void AuthRecorder::Run() {
  std::unique_lock lock(run_mu_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    lock.unlock();
    (void)Flush();
    lock.lock();
  }
}

void AuthRecorder::Stop() {
  {
    std::lock_guard lock(run_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  (void)Flush();
}

}  // namespace cordon::api
