// Terminal escape sequences in a node's output. A program on a pseudo-terminal of its
// own (`pty: true`) writes colours and cursor moves for a person; when the log stream
// goes to a file or a pipe (or under --no-color / NO_COLOR) they are noise, and are
// removed, as `ls --color=auto` would not have written them.
#pragma once

#include <string>
#include <string_view>

namespace treerun {

/// Whether TEXT holds an ESC: the cheap test before strip_escapes.
bool has_escapes(std::string_view text);

/// TEXT without its ECMA-48 escape sequences: CSI (`ESC [` … final byte, colours among
/// them), OSC/DCS/APC/PM/SOS strings (ended by BEL or `ESC \`), and the two- or
/// three-byte `ESC` sequences. A sequence cut off by the end of TEXT is dropped.
std::string strip_escapes(std::string_view text);

/// TEXT with its colours (SGR: `ESC [` … `m`) and nothing else of the terminal's: a
/// node's clear-screen, cursor moves, title or clipboard writes would act on the
/// terminal every node shares. A line that sets a colour ends with a reset, so the
/// colour cannot bleed into the next node's line.
std::string keep_colours(std::string_view text);

}  // namespace treerun
