#include "api/router.hpp"

#include <algorithm>

namespace parley::api {

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Matches and scores: literal segments count more, so /v1/users/me beats /v1/users/{user_id}.
int score(std::string_view pattern, const std::vector<std::string_view>& path,
          std::map<std::string, std::string, std::less<>>* params) {
  auto pat = split(pattern);
  if (pat.size() != path.size()) return -1;
  int literal = 0;
  for (std::size_t i = 0; i < pat.size(); ++i) {
    if (is_param(pat[i])) {
      if (path[i].empty()) return -1;
      if (params) (*params)[std::string(pat[i].substr(1, pat[i].size() - 2))] = std::string(path[i]);
    } else if (pat[i] == path[i]) {
      literal += 1 << (pat.size() - i);
    } else {
      return -1;
    }
  }
  return literal;
}

}  // namespace

void Router::add(Route route) { routes_.push_back(std::move(route)); }

Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  if (path.size() > 1 && path.back() == '/') return m;  // one spelling per resource
  auto parts = split(path);
  int best = -1;
  int best_any = -1;
  for (const auto& r : routes_) {
    int s = score(r.pattern, parts, nullptr);
    if (s < 0) continue;
    best_any = std::max(best_any, s);
    if (r.method == method && s > best) {
      best = s;
      m.route = &r;
    }
  }
  if (m.route && best == best_any) {
    score(m.route->pattern, parts, &m.params);
    return m;
  }
  // A more specific path exists with other methods: that is the resource the client meant.
  m.route = nullptr;
  for (const auto& r : routes_) {
    if (score(r.pattern, parts, nullptr) == best_any && best_any >= 0) m.allowed.push_back(r.method);
  }
  std::sort(m.allowed.begin(), m.allowed.end());
  m.allowed.erase(std::unique(m.allowed.begin(), m.allowed.end()), m.allowed.end());
  return m;
}

}  // namespace parley::api
