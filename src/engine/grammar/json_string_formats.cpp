#include "engine/grammar/json_string_formats.h"

#include "base/check.h"
#include "engine/grammar/gbnf_parser.h"

namespace inferd::engine {
namespace {

// Every format rule; each names the rules it uses, all defined here.
constexpr const char* kFormatRules = R"(
format-date ::= format-year "-" format-month-day | format-leap-year "-02-29"
format-year ::= [0-9]{4}
format-month-day ::= ( "01" | "03" | "05" | "07" | "08" | "10" | "12" ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] )
                   | ( "04" | "06" | "09" | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" )
                   | "02-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] )
format-leap-year ::= [0-9]{2} ( "0" [48] | [2468] [048] | [13579] [26] )
                   | ( "0" [48] | [2468] [048] | [13579] [26] | "00" ) "00"
format-time ::= format-hour ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,9} )? format-offset
format-hour ::= [01] [0-9] | "2" [0-3]
format-offset ::= "Z" | [+-] format-hour ":" [0-5] [0-9]
format-date-time ::= format-date "T" format-time
format-uuid ::= format-hex{8} "-" format-hex{4} "-" format-hex{4} "-" format-hex{4} "-" format-hex{12}
format-hex ::= [0-9a-fA-F]
format-email ::= format-email-atom ( "." format-email-atom )* "@" ( format-email-label "." )+ [A-Za-z]{2,24}
format-email-atom ::= [A-Za-z0-9_%+-]+
format-email-label ::= [A-Za-z0-9]+ ( "-" [A-Za-z0-9]+ )*
)";

}  // namespace

ExprId json_string_format(Grammar& g, std::string_view format) {
  static constexpr std::string_view kFormats[] = {"date", "time", "date-time", "uuid", "email"};
  bool known = false;
  for (std::string_view f : kFormats) known |= f == format;
  if (!known) return -1;
  if (g.find_rule("format-date") == kNoRule) {
    const Status st = parse_gbnf_into(kFormatRules, g);
    INFERD_CHECK_MSG(st.ok(), "built-in format grammar failed to parse");
  }
  const RuleId rule = g.find_rule("format-" + std::string(format));
  INFERD_CHECK(rule != kNoRule);
  return g.ref(rule);
}

}  // namespace inferd::engine
