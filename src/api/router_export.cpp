// GET /api/v1/actions/export: the action list as CSV, every page of it up to
// kMaxExportRows, with the list's filters. docs: src/api/README.md.
#include <string>
#include <vector>

#include "api/csv.h"
#include "api/route_context.h"
#include "core/catalogue.h"

namespace cordon::api {
namespace {

// A spreadsheet's worth; past it the answer says it was cut.
constexpr size_t kMaxExportRows = 100000;
constexpr int kExportPage = 1000;

std::string TimeCell(TimePoint t) { return ToUnixMillis(t) == 0 ? std::string() : FormatTime(t); }

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const std::string& id : ids) {
    if (!out.empty()) out += ' ';
    out += id;
  }
  return out;
}

const std::vector<std::string>& Header() {
  static const std::vector<std::string> kHeader{
      "id",       "createdAt",       "updatedAt",      "status",         "action",      "provider",
      "account",  "resolvedAccount", "accountId",      "reason",         "requestedBy", "attemptCount",
      "outcome",  "providerCode",    "providerDetail", "alreadyInState", "priorState",  "undoOf",
      "undoneBy", "bulkId",          "linkedActions",  "riskLevel"};
  return kHeader;
}

std::vector<std::string> Record(const Action& a) {
  return {a.id,
          TimeCell(a.created_at),
          TimeCell(a.updated_at),
          std::string(ToString(a.status)),
          std::string(ToString(a.type)),
          std::string(ToString(a.provider)),
          a.target,
          a.resolved_account,
          a.account_id,
          a.reason,
          a.requested_by,
          std::to_string(a.attempt_count),
          a.outcome,
          a.provider_answer.code,
          a.provider_answer.detail,
          a.already_in_state ? "true" : "false",
          a.prior_state,
          a.undo_of,
          a.undone_by,
          a.bulk_id,
          JoinIds(a.linked_actions),
          a.risk_level ? std::string(ToString(*a.risk_level)) : std::string()};
}

}  // namespace

RoutedResponse Router::ExportActions(Context& ctx) {
  auto caller = Authenticate(ctx);
  if (!caller) return ctx.AuthFailed(caller.error());
  auto filter = ActionFilterFrom(ctx.params, /*paging=*/false);
  if (!filter) return ctx.Fail(filter.error());
  filter->limit = kExportPage;

  std::string csv;
  AppendCsvRecord(csv, Header());
  size_t rows = 0;
  bool truncated = false;
  while (true) {
    auto page = store_.ListActions(*filter);
    if (!page) return ctx.FailWith(page.error());
    for (const Action& a : page->actions) {
      if (rows == kMaxExportRows) {
        truncated = true;
        break;
      }
      AppendCsvRecord(csv, Record(a));
      ++rows;
    }
    if (truncated || page->next_cursor.empty()) break;
    filter->cursor = std::move(page->next_cursor);
  }

  HttpResponse response(http::status::ok, ctx.request.version());
  response.set(http::field::content_type, "text/csv; charset=utf-8");
  response.set(http::field::content_disposition, "attachment; filename=\"cordon-actions.csv\"");
  if (truncated) response.set("X-Cordon-Export-Truncated", std::to_string(kMaxExportRows));
  response.keep_alive(ctx.request.keep_alive());
  response.body() = std::move(csv);
  return ctx.Done(std::move(response));
}

}  // namespace cordon::api
