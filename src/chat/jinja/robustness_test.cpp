// Malformed and random templates: parsing and rendering must always end with a result or a
// Status, never a crash, a hang or unbounded memory (run under ASan/UBSan in the debug build).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/jinja/template.h"

namespace inferd::chat::jinja {
namespace {

using json = nlohmann::ordered_json;

const json& context() {
  static const json* const kContext = new json(json::parse(R"({
    "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null,
                  "tool_calls": [{"function": {"name": "f", "arguments": {"a": [1, 2.5, "x"]}}}]}],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "n": 3, "s": "héllo wörld", "d": {"k": "v", "n": null}, "l": [3, 1, 2]
  })"));
  return *kContext;
}

RenderOptions small_limits() {
  RenderOptions options;
  options.limits.max_steps = 200'000;
  options.limits.max_loop_iterations = 20'000;
  options.limits.max_output_bytes = 1 << 20;
  options.limits.max_container_items = 1 << 16;
  options.now = 0;
  return options;
}

// Parses and renders; only checks that it returns.
void exercise(const std::string& source) {
  auto t = Template::parse(source);
  if (!t.ok()) {
    EXPECT_FALSE(t.status().message().empty());
    return;
  }
  auto r = t->render_json(context(), small_limits());
  if (!r.ok()) {
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST(RobustnessTest, MalformedTemplates) {
  const char* cases[] = {
      "{{",
      "}}",
      "{%",
      "%}",
      "{#",
      "{{{{",
      "{% %}",
      "{{ }}",
      "{%- -%}",
      "{{ ( }}",
      "{{ ) }}",
      "{{ [ }}",
      "{{ { }}",
      "{{ 'a",
      "{{ \"a }}",
      "{% if %}",
      "{% for %}",
      "{% for in %}",
      "{% for x in %}{% endfor %}",
      "{% set %}",
      "{% set = 1 %}",
      "{% macro %}",
      "{% macro m( %}",
      "{% call %}",
      "{% filter %}{% endfilter %}",
      "{% endif %}",
      "{% endfor %}",
      "{% else %}",
      "{% elif %}",
      "{% raw %}",
      "{% endraw %}",
      "{{ x | }}",
      "{{ x is }}",
      "{{ x . }}",
      "{{ x[ }}",
      "{{ x[:: }}",
      "{{ f(,) }}",
      "{{ f(a=) }}",
      "{{ f(**) }}",
      "{{ 1 if }}",
      "{{ 1 if 2 else }}",
      "{{ not }}",
      "{{ - }}",
      "{{ 'a' ~ }}",
      "{{ 0x }}",
      "{{ 1e }}",
      "{{ 1.e5 }}",
      "{{ ..1 }}",
      "{{ '\\x' }}",
      "{{ '\\u' }}",
      "{{ '\\U0011FFFF' }}",
      "{{ '\\N{DASH}' }}",
      "{% with %}",
      "{% with a %}{% endwith %}",
      "{% print %}",
      "{% generation %}",
      "{% break %}",
      "{% for x in l %}{% macro m() %}{% break %}{% endmacro %}{% endfor %}",
      "\x00{{ \x00 }}",
      "{{ x\x01 }}",
      "{% if x %}{% elif %}{% endif %}",
      "{{ a.0.1.2 }}",
      "{{ ()()() }}",
      "{{ [][0][0] }}",
      "{{ {}|attr }}",
      "{{ 1 ~~ 2 }}",
      "{{ 1 ** ** 2 }}",
      "{% set a.b.c = 1 %}",
      "{% for a.b in l %}{% endfor %}",
      "{{ caller() }}",
      "{{ loop.index }}",
      "{{ varargs }}",
      "{% macro m(a, a) %}{% endmacro %}{{ m(1, 2) }}",
      "{{ range(1, 2, 0) }}",
      "{{ '%*d' % (1,) }}",
      "{{ '{0:{1}}'.format(1) }}",
      "{{ '{:{}{}}'.format(1, 2, 3) }}",
      "{{ '%(a' % {} }}",
      "{{ '%' % () }}",
      "{{ 'abc'.center(-5) }}",
      "{{ 'x' | indent(-3) }}",
      "{{ l | batch(0) | list }}",
      "{{ l | batch(-1) | list }}",
      "{{ l | slice(0) | list }}",
      "{{ l | slice(-2) | list }}",
      "{{ 1.5 | round(-400) }}",
      "{{ 1.5 | round(400) }}",
      "{{ 9223372036854775807 + 1 }}",
      "{{ -9223372036854775807 - 2 }}",
      "{{ (-9223372036854775807 - 1) // -1 }}",
      "{{ (-9223372036854775807 - 1) | abs }}",
      "{{ 10 ** 30 }}",
      "{{ 2 ** 0.5 ** 2 }}",
      "{{ (-8) ** 0.5 }}",
      "{{ 1e308 * 10 }}",
      "{{ 'a' * -1 }}",
      "{{ l[9223372036854775807] }}",
      "{{ l[-9223372036854775807 - 1] }}",
      "{{ l[::-9223372036854775807 - 1] }}",
      "{{ s[1:9223372036854775807:9223372036854775807] }}",
      "{{ 'x'.zfill(99999999999) }}",
      "{{ 'x'.ljust(99999999999) }}",
      "{{ s.expandtabs(99999999999) }}",
      "{{ range(-5) | list }}",
      "{{ strftime_now('%' * 1000) }}",
      "{{ d.items().x }}",
      "{{ messages | tojson(indent=-5) }}",
      "{{ messages | tojson(indent=99999) }}",
      "{{ messages | tojson(separators=1) }}",
      "{{ lipsum(1000000) }}",
      "{{ lipsum(2, min=5, max=1) }}",
      "{{ cycler() }}",
  };
  for (const char* c : cases) exercise(c);
}

// Random token soups built from template syntax fragments.
TEST(RobustnessTest, RandomTokenSoup) {
  const std::vector<std::string> fragments = {
      "{{",      "}}",        "{%",      "%}",       "{#",        "#}",        "{%-",
      "-%}",     "{{-",       "-}}",     " ",        "\n",        "x",         "1",
      "2.5",     "'s'",       "\"q\"",   "(",        ")",         "[",         "]",
      "{",       "}",         ",",       ":",        ".",         "|",         "+",
      "-",       "*",         "/",       "//",       "%",         "**",        "~",
      "==",      "!=",        "<",       ">=",       "=",         "if",        "else",
      "elif",    "endif",     "for",     "in",       "endfor",    "set",       "endset",
      "macro",   "endmacro",  "call",    "endcall",  "filter",    "endfilter", "not",
      "and",     "or",        "is",      "defined",  "none",      "true",      "loop",
      "range",   "namespace", "l",       "d",        "s",         "n",         "messages",
      "tojson",  "join",      "map",     "select",   "length",    "items",     "recursive",
      "raw",     "endraw",    "break",   "continue", "caller",    "varargs",   "ns",
      "ns.x",    "'{}'",      "format",  "upper",    "trim",      "sort",      "attribute",
      "default", "with",      "endwith", "print",    "generation"};
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string source;
    const int n = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) source += fragments[rng() % fragments.size()];
    exercise(source);
  }
}

// Mutations of a valid, feature-rich template: flips, deletions and insertions of bytes.
TEST(RobustnessTest, MutatedTemplates) {
  const std::string base =
      "{%- set ns = namespace(n=0, seen=[]) -%}\n"
      "{%- macro show(m, prefix='> ') -%}{{ prefix }}{{ m.role | upper }}: {{ m.content | "
      "default('', true) | trim }}{%- endmacro -%}\n"
      "{%- for m in messages if m.role != 'system' recursive -%}\n"
      "  {%- set ns.n = ns.n + 1 -%}{{ show(m) }}\n"
      "  {%- for call in m.tool_calls | default([]) %}{{ call.function.name }}({{ "
      "call.function.arguments | tojson }}){% endfor %}\n"
      "{%- else -%}none{%- endfor -%}\n"
      "{{ tools | map(attribute='function') | map(attribute='name') | list | join(', ') }} {{ ns.n "
      "}}\n"
      "{% call(x) show({'role': 'r', 'content': s}) %}{{ x }}{% endcall %}{{ '%s|%5.2f' % (s, n) "
      "}} {{ '{:>8}'.format(s) }}\n";
  exercise(base);
  std::mt19937 rng(777);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = static_cast<char>(rng() % 128); break;
        case 1: s.erase(pos, 1 + rng() % 8); break;
        default: s.insert(pos, 1, "{}%#()[]|'\".,-+ \n"[rng() % 17]); break;
      }
    }
    exercise(s);
  }
}

}  // namespace
}  // namespace inferd::chat::jinja
