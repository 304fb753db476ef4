// Python's str() and repr() of interpreter values, float formatting as Python prints floats,
// and markupsafe's HTML escaping.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "chat/jinja/value.h"

namespace inferd::chat::jinja {

// repr(float) / str(float): shortest round-trip digits, "1.0", "1e+16", "1e-05", "inf", "nan".
std::string float_repr(double f);
// repr(str): quoted with ' (or " when the text has ' but no "), non-printables escaped.
std::string string_repr(std::string_view s);
// markupsafe.escape() of text: & < > ' " as HTML entities.
std::string html_escape(std::string_view s);

// str(value), as `{{ value }}` prints it: Undefined prints "", None "None", True "True",
// containers as their repr.
Result<std::string> to_str(const Value& v);
// repr(value).
Result<std::string> repr(const Value& v);

// markupsafe's soft_str(): strings (and Markup) as they are, anything else converted by str().
Result<Value> soft_str(const Value& v);
// markupsafe.escape(): Markup unchanged, anything else str()-converted and escaped into Markup.
Result<Value> escape_value(const Value& v);

}  // namespace inferd::chat::jinja
