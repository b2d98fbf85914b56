// The Graph-compatible API: Defender for Identity's remediation surface of
// Microsoft Graph (microsoft.graph.security identityAccounts and its bound
// action invokeAction), served under /v1.0 and /beta over Cordon's inventory,
// tokens, roles and ActionService. See src/api/README.md, "Graph-compatible API".
#include <algorithm>
#include <cctype>

#include "api/graph_json.h"
#include "api/graph_mapping.h"
#include "api/graph_query.h"
#include "api/graph_wire.h"
#include "api/route_context.h"
#include "core/limits.h"
#include "engine/action_service.h"
#include "inventory/inventory_store.h"

namespace cordon::api {
namespace {

constexpr std::string_view kGraphContentType =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";
constexpr std::string_view kInvokeActionResultType = "microsoft.graph.security.invokeActionResult";
// Graph's invokeAction carries no reason; an analyst may give one here.
constexpr std::string_view kReasonHeader = "X-Cordon-Reason";
constexpr std::string_view kReasonPrefix = "Graph-compatible API (invokeAction): ";
constexpr std::string_view kNoReason = "Graph-compatible API (invokeAction): the call carries no reason";
constexpr std::string_view kNoSuchIdentity = "No identityAccounts object has this id.";
constexpr std::string_view kNoInventory = "This server keeps no identity inventory.";

// Graph's error code for each status the API answers with.
std::string_view GraphCodeFor(http::status status) {
  switch (status) {
    case http::status::bad_request: return "BadRequest";
    case http::status::unauthorized: return "InvalidAuthenticationToken";
    case http::status::forbidden: return "Authorization_RequestDenied";
    case http::status::not_found: return "NotFound";
    case http::status::method_not_allowed: return "BadRequest";
    case http::status::conflict: return "Conflict";
    case http::status::unsupported_media_type: return "UnsupportedMediaType";
    case http::status::too_many_requests: return "TooManyRequests";
    case http::status::service_unavailable: return "serviceNotAvailable";
    default: return "generalException";
  }
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The helpers below take the request's context as a template parameter:
// Router::Context is private to the Router, and these are the Graph routes'
// own rendering, not the Router's.

template <class Context>
GraphRequestIds IdsOf(const Context& ctx) {
  const std::string request_id = GraphRequestId(ctx.request_id);
  const auto sent = ctx.request.find("client-request-id");
  return {request_id, ClientRequestId(sent == ctx.request.end() ? std::string_view{} : ToStd(sent->value()),
                                      request_id)};
}

// Every Graph answer carries Graph's request ids beside Cordon's X-Request-Id.
RoutedResponse WithGraphIds(RoutedResponse out, const GraphRequestIds& ids) {
  out.response.set("request-id", ids.request_id);
  out.response.set("client-request-id", ids.client_request_id);
  out.response.set("OData-Version", "4.0");
  return out;
}

template <class Context>
RoutedResponse GraphAnswer(const Context& ctx, http::status status, const ordered_json& body) {
  HttpResponse response(status, ctx.request.version());
  response.set(http::field::content_type, ToBeast(kGraphContentType));
  response.keep_alive(ctx.request.keep_alive());
  response.body() = DumpOrdered(body);
  return ctx.Done(std::move(response));
}

// Graph's error body; `message` is the server's own words.
template <class Context>
RoutedResponse GraphError(const Context& ctx, http::status status, std::string_view message) {
  const nlohmann::json body = GraphErrorBody(GraphCodeFor(status), message, IdsOf(ctx), Now());
  HttpResponse response(status, ctx.request.version());
  response.set(http::field::content_type, ToBeast(kGraphContentType));
  response.keep_alive(ctx.request.keep_alive());
  response.body() = Dump(body);
  return ctx.Done(std::move(response));
}

template <class Context>
RoutedResponse GraphFailWith(const Context& ctx, const Error& error) {
  const http::status status = HttpStatusFor(error.code);
  if (status == http::status::internal_server_error) {
    spdlog::error("api: request {} ({} {}): internal error: {}", ctx.request_id, ctx.Method(), ctx.Path(),
                  SafeText(error.message, 1024));
    return GraphError(ctx, status, "internal error; the server log has it under this request's id");
  }
  return GraphError(ctx, status, error.message);
}

// Authentication refused, in Graph's words: 401 InvalidAuthenticationToken
// (with the same WWW-Authenticate as the rest of the API) or, for an address
// that failed too often, 429 TooManyRequests with Retry-After.
template <class Context>
RoutedResponse GraphAuthFailed(Context& ctx, const Error& error) {
  if (error.code == ErrorCode::kResourceExhausted) {
    ctx.throttled = true;
    RoutedResponse out = GraphError(ctx, http::status::too_many_requests, error.message);
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(error.retry_after.value_or(Millis(1000)));
    out.response.set(http::field::retry_after, std::to_string(std::max<int64_t>(wait.count(), 1)));
    return out;
  }
  if (error.code != ErrorCode::kUnauthenticated) return GraphFailWith(ctx, error);
  const bool presented = ctx.request.find(http::field::authorization) != ctx.request.end();
  RoutedResponse out = GraphError(ctx, http::status::unauthorized,
                                  presented ? std::string_view(error.message) : "Access token is empty.");
  out.response.set(http::field::www_authenticate,
                   presented ? "Bearer realm=\"cordon\", error=\"invalid_token\"" : "Bearer realm=\"cordon\"");
  return out;
}

template <class Context>
RoutedResponse GraphMethodNotAllowed(const Context& ctx, std::string_view allow) {
  RoutedResponse out =
      GraphError(ctx, http::status::method_not_allowed, "Specified HTTP method is not allowed for the request target.");
  out.response.set(http::field::allow, ToBeast(allow));
  return out;
}

// The next page's link: the same query with the position the inventory gave.
std::string NextLink(std::string_view origin, std::string_view version, const GraphListQuery& query,
                     std::string_view cursor) {
  std::string link = fmt::format("{}/{}/{}?$top={}", origin, version, kIdentityAccountsPath, query.top);
  if (const std::string filter = FormatGraphFilter(query.filter); !filter.empty())
    link += "&$filter=" + EncodeQueryValue(filter);
  if (!query.select.empty()) link += "&$select=" + EncodeQueryValue(fmt::format("{}", fmt::join(query.select, ",")));
  link += "&$skiptoken=" + EncodeQueryValue(cursor);
  return link;
}

bool IsInvokeAction(std::string_view segment) {
  return EqualsNoCase(segment, "invokeAction") || EqualsNoCase(segment, "microsoft.graph.security.invokeAction");
}

}  // namespace

RoutedResponse Router::GraphRoute(Context& ctx, std::string_view version) {
  const http::verb method = ctx.request.method();
  // "/v1.0/" is followed by security/identities/identityAccounts[/{id}[/invokeAction]].
  const auto segments = SplitPath(std::string_view(ctx.path).substr(version.size() + 2));
  const bool accounts = segments.size() >= 3 && segments.size() <= 5 && EqualsNoCase(segments[0], "security") &&
                        EqualsNoCase(segments[1], "identities") && EqualsNoCase(segments[2], "identityAccounts");
  RoutedResponse out = [&] {
    if (accounts && segments.size() == 3) {
      ctx.route_class = "graph.identityAccounts.list";
      if (method != http::verb::get) return GraphMethodNotAllowed(ctx, "GET");
      return GraphList(ctx, version);
    }
    if (accounts && segments.size() == 4 && !segments[3].empty()) {
      ctx.route_class = "graph.identityAccounts.get";
      if (method != http::verb::get) return GraphMethodNotAllowed(ctx, "GET");
      return GraphGet(ctx, version, std::string(segments[3]));
    }
    if (accounts && segments.size() == 5 && !segments[3].empty() && IsInvokeAction(segments[4])) {
      ctx.route_class = "graph.identityAccounts.invokeAction";
      if (method != http::verb::post) return GraphMethodNotAllowed(ctx, "POST");
      return GraphInvokeAction(ctx, version, std::string(segments[3]));
    }
    // Graph answers an unknown segment 400, not 404; the path is not repeated.
    ctx.route_class = "graph.unknown";
    return GraphError(ctx, http::status::bad_request,
                      "Resource not found for a segment of this path; this server serves "
                      "security/identities/identityAccounts, /{id} and /{id}/invokeAction");
  }();
  return WithGraphIds(std::move(out), IdsOf(ctx));
}

RoutedResponse Router::GraphBadTarget(Context& ctx, const Error& error) {
  ctx.route_class = "graph.unknown";
  return WithGraphIds(GraphError(ctx, http::status::bad_request, error.message), IdsOf(ctx));
}

RoutedResponse Router::GraphList(Context& ctx, std::string_view version) {
  auto caller = Authenticate(ctx);
  if (!caller) return GraphAuthFailed(ctx, caller.error());
  if (inventory_.store == nullptr) return GraphError(ctx, http::status::service_unavailable, kNoInventory);
  auto query = ParseGraphListQuery(ctx.params, kMaxIdentityCursorBytes);
  if (!query) return GraphError(ctx, http::status::bad_request, query.error().message);

  IdentityFilter filter;
  filter.display_name = query->filter.display_name;
  filter.display_name_prefix = query->filter.display_name_prefix;
  filter.domain = query->filter.domain;
  filter.cursor = query->skiptoken;
  filter.limit = query->top;
  auto page = inventory_.store->ListIdentities(filter);
  if (!page) {
    // A position the inventory cannot read: the client's text, not ours to repeat.
    if (page.error().code == ErrorCode::kInvalidArgument)
      return GraphError(ctx, http::status::bad_request,
                        "The $skiptoken is not one this server issued; follow @odata.nextLink");
    return GraphFailWith(ctx, page.error());
  }

  const std::string origin = origin_.For(ToStd(ctx.request[http::field::host]));
  ordered_json body = ordered_json::object();
  body["@odata.context"] = IdentityAccountsContext(origin, version, query->select, false);
  if (!page->next_cursor.empty()) body["@odata.nextLink"] = NextLink(origin, version, *query, page->next_cursor);
  ordered_json value = ordered_json::array();
  for (const Identity& identity : page->identities) value.push_back(IdentityAccountsJson(identity, query->select));
  body["value"] = std::move(value);
  return GraphAnswer(ctx, http::status::ok, body);
}

RoutedResponse Router::GraphGet(Context& ctx, std::string_view version, const std::string& id) {
  auto caller = Authenticate(ctx);
  if (!caller) return GraphAuthFailed(ctx, caller.error());
  if (inventory_.store == nullptr) return GraphError(ctx, http::status::service_unavailable, kNoInventory);
  auto select = ParseGraphGetQuery(ctx.params);
  if (!select) return GraphError(ctx, http::status::bad_request, select.error().message);
  // Identity ids are GUIDs: anything else is unknown without a lookup.
  if (!IsGuid(id)) return GraphError(ctx, http::status::not_found, kNoSuchIdentity);
  auto identity = inventory_.store->GetIdentity(id);
  if (!identity) return GraphFailWith(ctx, identity.error());
  if (!identity->has_value()) return GraphError(ctx, http::status::not_found, kNoSuchIdentity);

  const std::string origin = origin_.For(ToStd(ctx.request[http::field::host]));
  ordered_json body = ordered_json::object();
  body["@odata.context"] = IdentityAccountsContext(origin, version, *select, true);
  body.update(IdentityAccountsJson(**identity, *select));
  return GraphAnswer(ctx, http::status::ok, body);
}

RoutedResponse Router::GraphInvokeAction(Context& ctx, std::string_view version, const std::string& id) {
  auto caller = Authenticate(ctx);
  if (!caller) return GraphAuthFailed(ctx, caller.error());
  if (inventory_.store == nullptr) return GraphError(ctx, http::status::service_unavailable, kNoInventory);
  if (!ctx.params.empty())
    return GraphError(ctx, http::status::bad_request, "Unsupported query option; this request supports none");
  if (!IsGuid(id)) return GraphError(ctx, http::status::not_found, kNoSuchIdentity);

  // The body: invokeAction's parameters, Graph's member names, nothing else.
  auto body = ctx.ParseObject({"accountId", "action", "identityProvider"});
  if (!body) return GraphError(ctx, body.error().status, body.error().detail);
  auto account_id = RequiredString(*body, "accountId", kMaxAccountBytes);
  if (!account_id) return GraphError(ctx, account_id.error().status, account_id.error().detail);
  auto action_name = RequiredString(*body, "action", 64);
  if (!action_name) return GraphError(ctx, action_name.error().status, action_name.error().detail);
  auto provider_name = RequiredString(*body, "identityProvider", 64);
  if (!provider_name) return GraphError(ctx, provider_name.error().status, provider_name.error().detail);
  const auto action = ParseGraphAction(*action_name);
  if (!action)
    return GraphError(ctx, http::status::bad_request,
                      fmt::format("Invalid value for 'action'; known: {}", KnownGraphActions()));
  const auto provider = ParseGraphProvider(*provider_name);
  if (!provider)
    return GraphError(ctx, http::status::bad_request,
                      fmt::format("Invalid value for 'identityProvider'; known: {}", KnownGraphProviders()));

  auto identity = inventory_.store->GetIdentity(id);
  if (!identity) return GraphFailWith(ctx, identity.error());
  if (!identity->has_value()) return GraphError(ctx, http::status::not_found, kNoSuchIdentity);
  const auto& accounts = (*identity)->accounts;
  const auto account = std::find_if(accounts.begin(), accounts.end(), [&](const InventoryAccount& a) {
    return a.account.provider == *provider && EqualsNoCase(a.account.id, *account_id);
  });
  if (account == accounts.end())
    return GraphError(ctx, http::status::bad_request,
                      fmt::format("This identityAccounts has no account with this accountId at {}",
                                  GraphProviderName(*provider)));
  const auto type = CordonActionFor(*action, *provider);
  if (!type) {
    const std::string supported =
        Join(GraphActionsAt(*provider), [](GraphAction a) { return std::string(ToString(a)); });
    return GraphError(ctx, http::status::bad_request,
                      fmt::format("The action {} is not supported at {}; supported there: {}", ToString(*action),
                                  GraphProviderName(*provider), supported));
  }
  if (!MayRun(caller->role, *provider, *type)) {
    const std::string what = fmt::format("{} at {}", ToString(*type), ToString(*provider));
    metrics_.CountAuthFailure(AuthFailure::kForbidden);
    RecordRefusal(ctx, "auth.forbidden", caller->actor.name, caller->actor.token_id, what);
    return GraphError(ctx, http::status::forbidden,
                      fmt::format("the role '{}' may not run {} ({} at {})", ToString(caller->role), what,
                                  ToString(*action), GraphProviderName(*provider)));
  }

  std::string reason(kNoReason);
  if (const auto given = ctx.request.find(ToBeast(kReasonHeader)); given != ctx.request.end()) {
    const std::string_view text = Trim(ToStd(given->value()));
    constexpr size_t kMaxGivenReason = kMaxReasonBytes - kReasonPrefix.size();
    if (text.empty() || text.size() > kMaxGivenReason || HasControlCharacter(text))
      return GraphError(ctx, http::status::bad_request,
                        fmt::format("The {} header must hold 1 to {} bytes of text without control characters",
                                    kReasonHeader, kMaxGivenReason));
    reason = std::string(kReasonPrefix) + std::string(text);
  }

  // The account is named by its immutable id, which every connector resolves
  // as readily as a name and which no rename changes.
  SubmitRequest request;
  request.type = *type;
  request.provider = *provider;
  request.targets = {account->account.id};
  request.reason = std::move(reason);
  request.actor = caller->actor;
  auto created = actions_.Submit(request);
  if (!created) return GraphFailWith(ctx, created.error());
  if (created->empty())
    return GraphFailWith(ctx, Error::Internal("the ActionService created no action for an invokeAction"));

  // Graph's metadata makes invokeActionResult the answer itself (what the
  // SDKs generated from it read); Graph's documentation shows it under
  // `value`. Both are given so that either kind of client finds it.
  const ordered_json result = InvokeActionResultJson(account->account.id, *action, *provider, created->front().id);
  const std::string origin = origin_.For(ToStd(ctx.request[http::field::host]));
  ordered_json answer = ordered_json::object();
  answer["@odata.context"] = TypeContext(origin, version, kInvokeActionResultType);
  answer.update(result);
  answer["value"] = result;
  return GraphAnswer(ctx, http::status::ok, answer);
}

}  // namespace cordon::api
