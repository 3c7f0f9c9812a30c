// Text from users and peers (selectors, handles, CNI network names, error messages quoting
// them) on its way to a terminal or the log: control characters are shown escaped, so an
// ESC sequence cannot recolour or rewrite a terminal and a newline cannot forge a log line.
#pragma once

#include <string>
#include <string_view>

namespace blockd::agent {

// C0 controls and DEL as \n, \r, \t or \xHH; C1 controls (UTF-8 U+0080..U+009F) as \u00HH.
// Everything else, UTF-8 included, passes unchanged.
std::string printable(std::string_view text);
bool has_control_characters(std::string_view text);

}  // namespace blockd::agent
