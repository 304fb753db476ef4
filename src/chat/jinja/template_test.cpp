// Unit tests of the template language: each construct, error reporting and resource limits.
// (Byte-for-byte agreement with Python's jinja2 is tested by tests/golden/jinja_conformance_test.)
#include "chat/jinja/template.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>

namespace inferd::chat::jinja {
namespace {

using json = nlohmann::ordered_json;

Result<std::string> render(std::string_view source, const json& vars = json::object(),
                           const RenderOptions& options = {}) {
  auto t = Template::parse(source);
  if (!t.ok()) return t.status();
  return t->render_json(vars, options);
}

std::string ok(std::string_view source, const json& vars = json::object()) {
  auto r = render(source, vars);
  EXPECT_TRUE(r.ok()) << source << ": " << r.status().to_string();
  return r.ok() ? *r : std::string("<error>");
}

Status err(std::string_view source, const json& vars = json::object(),
           const RenderOptions& options = {}) {
  auto r = render(source, vars, options);
  EXPECT_FALSE(r.ok()) << source << " rendered " << (r.ok() ? *r : "");
  return r.ok() ? Status() : r.status();
}

TEST(TemplateTest, OutputsTextAndExpressions) {
  EXPECT_EQ(ok("Hello {{ name }}!", {{"name", "World"}}), "Hello World!");
  EXPECT_EQ(ok("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ -7 % 3 }}"),
            "7 3 3.5 1024 2");
  EXPECT_EQ(ok("{{ none }} {{ true }} {{ 1.0 }} {{ [1, 'a'] }} {{ {'k': none} }}"),
            "None True 1.0 [1, 'a'] {'k': None}");
  EXPECT_EQ(ok("[{{ missing }}]"), "[]");
}

TEST(TemplateTest, Conditionals) {
  const char* t = "{% if x > 1 %}big{% elif x == 1 %}one{% else %}small{% endif %}";
  EXPECT_EQ(ok(t, {{"x", 5}}), "big");
  EXPECT_EQ(ok(t, {{"x", 1}}), "one");
  EXPECT_EQ(ok(t, {{"x", 0}}), "small");
  EXPECT_EQ(ok("{{ 'a' if x else 'b' }}", {{"x", json::array()}}), "b");
}

TEST(TemplateTest, LoopsAndLoopVariables) {
  EXPECT_EQ(
      ok("{% for x in xs %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
         {{"xs", {"a", "b", "c"}}}),
      "1a,2b,3c");
  EXPECT_EQ(ok("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(
      ok("{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}", {{"d", {{"z", 1}, {"a", 2}}}}),
      "z=1;a=2;");
  EXPECT_EQ(ok("{% for x in range(6) if x is even %}{{ x }}/{{ loop.length }} {% endfor %}"),
            "0/3 2/3 4/3 ");
  EXPECT_EQ(ok("{% for x in range(9) %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
            "012");
  EXPECT_EQ(ok("{% for x in [1,2,3] %}{{ loop.previtem }}-{{ loop.nextitem }} {% endfor %}"),
            "-2 1-3 2- ");
}

TEST(TemplateTest, SetNamespaceAndScoping) {
  EXPECT_EQ(ok("{% set ns = namespace(n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}"
               "{% endfor %}{{ ns.n }}"),
            "6");
  EXPECT_EQ(ok("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}"), "1");
  EXPECT_EQ(ok("{% set a, b = 'xy' %}{{ b }}{{ a }}"), "yx");
  EXPECT_EQ(ok("{% set block %}  text {{ 1 }} {% endset %}[{{ block | trim }}]"), "[text 1]");
}

TEST(TemplateTest, MacrosAndCallBlocks) {
  EXPECT_EQ(ok("{% macro tag(name, body='') %}<{{ name }}>{{ body }}</{{ name }}>{% endmacro %}"
               "{{ tag('b', 'x') }}{{ tag(name='i') }}"),
            "<b>x</b><i></i>");
  EXPECT_EQ(
      ok("{% macro list(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}"
         "{% call(item) list([1, 2]) %}[{{ item }}]{% endcall %}"),
      "[1][2]");
  EXPECT_EQ(ok("{% macro m() %}{{ varargs | length }}{{ kwargs | length }}{% endmacro %}{{ m(1, 2, "
               "a=3) }}"),
            "21");
}

TEST(TemplateTest, FiltersAndTests) {
  EXPECT_EQ(ok("{{ xs | map(attribute='n') | select('odd') | join(',') }}",
               {{"xs", {{{"n", 1}}, {{"n", 2}}, {{"n", 3}}}}}),
            "1,3");
  EXPECT_EQ(ok("{{ d | tojson }}", {{"d", {{"b", 1}, {"a", "é"}}}}), R"({"b": 1, "a": "é"})");
  EXPECT_EQ(ok("{{ [3, 1, 2] | sort | first }}{{ 'Ab' | lower }}{{ x | default('d') }}"), "1abd");
  EXPECT_EQ(ok("{{ 1 is odd }} {{ x is defined }} {{ 'a' is string }} {{ [] is iterable }}"),
            "True False True True");
}

TEST(TemplateTest, WhitespaceControl) {
  EXPECT_EQ(ok("{% for i in [1, 2] %}\n  {{ i }}\n{% endfor %}\n"), "  1\n  2\n");
  EXPECT_EQ(ok("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(ok("a\n  {#- comment #}b"), "ab");
}

TEST(TemplateTest, TrimAndLstripCanBeDisabled) {
  TemplateOptions options;
  options.lexer.trim_blocks = false;
  options.lexer.lstrip_blocks = false;
  options.lexer.keep_trailing_newline = true;
  auto t = Template::parse("  {% if true %}\nx\n{% endif %}\n", options);
  ASSERT_TRUE(t.ok());
  auto out = t->render({});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "  \nx\n\n");
}

TEST(TemplateTest, SyntaxErrorsNameLineAndColumn) {
  auto t = Template::parse("line one\n{% if x %}\n  {{ 1 +* 2 }}\n{% endif %}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 3, column"), std::string::npos) << t.status().message();
  auto u = Template::parse("{% for x in y %}never closed");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("endfor"), std::string::npos) << u.status().message();
  auto v = Template::parse("ok\n\n  {{ x | nosuchfilter }}");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("line 3, column 10"), std::string::npos)
      << v.status().message();
  EXPECT_NE(v.status().message().find("No filter named 'nosuchfilter'"), std::string::npos);
  auto w = Template::parse("{{ 'unterminated }}");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("line 1, column 4"), std::string::npos)
      << w.status().message();
}

TEST(TemplateTest, RuntimeErrorsNameTheLocation) {
  Status st = err("ok\n{{ 'a' + 1 }}");
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("line 2"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("can only concatenate str"), std::string::npos) << st.message();
}

TEST(TemplateTest, RaiseExceptionMessageIsVerbatim) {
  Status st = err("{{ raise_exception('Roles must alternate') }}");
  EXPECT_EQ(st.message(), "Roles must alternate");
}

TEST(TemplateTest, SandboxRejectsMutation) {
  Status st = err("{% set l = [] %}{{ l.append(1) }}");
  EXPECT_NE(st.message().find("unsafe"), std::string::npos) << st.message();
}

TEST(TemplateTest, StrftimeNowUsesTheGivenTime) {
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 9;
  tm.tm_isdst = -1;
  RenderOptions options;
  options.now = std::mktime(&tm);
  auto r = render("{{ strftime_now('%d %b %Y') }}", json::object(), options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "26 Jul 2024");
}

TEST(TemplateLimitsTest, DeepMacroRecursionFails) {
  Status st = err("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("nested deeper"), std::string::npos) << st.message();
}

TEST(TemplateLimitsTest, DeepRecursiveLoopFails) {
  Status st = err("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

TEST(TemplateLimitsTest, ExponentialMacroFanOutHitsStepBudget) {
  RenderOptions options;
  options.limits.max_steps = 200'000;
  Status st =
      err("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ "
          "f(40) }}",
          json::object(), options);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("steps"), std::string::npos) << st.message();
}

TEST(TemplateLimitsTest, HugeLoopsFail) {
  RenderOptions options;
  options.limits.max_loop_iterations = 10'000;
  Status st = err("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
                  json::object(), options);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("loop iterations"), std::string::npos) << st.message();
  Status range = err("{% for i in range(1000000) %}{% endfor %}");
  EXPECT_NE(range.message().find("Range too big"), std::string::npos) << range.message();
}

TEST(TemplateLimitsTest, OutputAndStringSizesAreBounded) {
  RenderOptions options;
  options.limits.max_output_bytes = 1 << 16;
  Status out = err("{% for i in range(10000) %}0123456789{% endfor %}", json::object(), options);
  EXPECT_EQ(out.code(), StatusCode::kResourceExhausted);
  Status repeat = err("{{ 'x' * 100000000000 }}", json::object(), options);
  EXPECT_EQ(repeat.code(), StatusCode::kResourceExhausted);
  Status doubling =
      err("{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% "
          "endfor %}",
          json::object(), options);
  EXPECT_EQ(doubling.code(), StatusCode::kResourceExhausted);
  Status list = err("{{ ([0] * 100000000) | length }}", json::object(), options);
  EXPECT_EQ(list.code(), StatusCode::kResourceExhausted);
}

TEST(TemplateLimitsTest, QuadraticListGrowthHitsStepBudget) {
  RenderOptions options;
  options.limits.max_steps = 1'000'000;
  Status st =
      err("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% "
          "endfor %}",
          json::object(), options);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

TEST(TemplateLimitsTest, ValueNestingIsBounded) {
  Status st =
      err("{% set ns = namespace(v=[]) %}{% for i in range(5000) %}{% set ns.v = [ns.v] %}{% "
          "endfor %}{{ ns.v }}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  // Built by parsing: nlohmann's own copy constructor recurses.
  const json vars =
      json::parse("{\"x\": " + std::string(100000, '[') + std::string(100000, ']') + "}");
  auto t = Template::parse("{{ x | length }}");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->render_json(vars).ok());
}

TEST(TemplateLimitsTest, DeeplyNestedSourceFailsToParse) {
  for (const char* open_close : {"()", "[]"}) {
    std::string source = "{{ ";
    source.append(20000, open_close[0]);
    source += "1";
    source.append(20000, open_close[1]);
    source += " }}";
    auto t = Template::parse(source);
    ASSERT_FALSE(t.ok());
    EXPECT_NE(t.status().message().find("nesting"), std::string::npos) << t.status().message();
  }
  std::string nots = "{{ ";
  for (int i = 0; i < 20000; ++i) nots += "not ";
  nots += "1 }}";
  EXPECT_FALSE(Template::parse(nots).ok());
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  EXPECT_FALSE(Template::parse(ifs).ok());
  // Long operator, attribute and filter chains nest the tree too.
  for (const char* link : {" + 1", " | abs", ".x", "[0]", " or 1", " ** 1"}) {
    std::string chain = "{{ 1";
    for (int i = 0; i < 20000; ++i) chain += link;
    chain += " }}";
    EXPECT_FALSE(Template::parse(chain).ok()) << link;
  }
  // Realistic lengths are fine.
  std::string sum = "{{ 0";
  for (int i = 0; i < 150; ++i) sum += " + 1";
  sum += " }}";
  auto t = Template::parse(sum);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(*t->render({}), "150");
}

// Runs `fn` on a thread with a `stack_bytes` stack.
void run_with_stack(size_t stack_bytes, void (*fn)()) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, stack_bytes);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* f) -> void* {
                  reinterpret_cast<void (*)()>(f)();
                  return nullptr;
                },
                reinterpret_cast<void*>(fn)),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kRenderStackBytes = 8u << 20;  // sanitizer frames are several times larger
#else
constexpr size_t kRenderStackBytes = 1u << 20;
#endif

// The deepest evaluation the default limits allow fits in a 1 MiB stack.
TEST(TemplateLimitsTest, DeepestEvaluationFitsInOneMegabyteStack) {
  run_with_stack(kRenderStackBytes, [] {
    // Nested expressions inside recursive macros: reaches max_eval_depth before max_call_depth.
    std::string source = "{% macro r(n) %}{% if n < 1000 %}{{ ";
    for (int i = 0; i < 60; ++i) source += "[";
    source += "r(n + 1)";
    for (int i = 0; i < 60; ++i) source += "]";
    source += " }}{% endif %}{% endmacro %}{{ r(0) }}";
    auto t = Template::parse(source);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    auto r = t->render({});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("nested deeper"), std::string::npos)
        << r.status().message();
    // Deep macro recursion with a filter chain in each call.
    auto u = Template::parse(
        "{% macro r(n) %}{{ r(n + 1) | trim | upper | lower | string }}{% endmacro %}{{ r(0) }}");
    ASSERT_TRUE(u.ok());
    EXPECT_FALSE(u->render({}).ok());
  });
}

TEST(TemplateLimitsTest, NamespaceCyclesPrintAndRelease) {
  // Printed with Python's recursion marker; released at the end of the render (no leak).
  EXPECT_EQ(ok("{% set a = namespace() %}{% set a.me = a %}{{ a }}"),
            "<Namespace {'me': <Namespace {...}>}>");
  EXPECT_EQ(ok("{% macro m() %}{{ m is defined }}{% endmacro %}{% set ns = namespace(f=m) %}{{ "
               "ns.f() }}"),
            "True");
}

TEST(TemplateLimitsTest, LongNamespaceChainsFailToPrint) {
  Status st =
      err("{% set ns = namespace(x=none) %}{% for i in range(2000) %}{% set ns.x = "
          "namespace(x=ns.x) %}{% endfor %}{{ ns }}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
}

TEST(TemplateLimitsTest, InvalidUtf8SourceIsRejected) {
  EXPECT_FALSE(Template::parse("abc \xff\xfe").ok());
  EXPECT_FALSE(Template::parse("\xed\xa0\x80").ok());  // encoded surrogate
}

}  // namespace
}  // namespace inferd::chat::jinja
