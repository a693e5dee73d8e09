# Turn a text file into a C source defining `const char NAME[]` (NUL-
# terminated) so a program can serve it without reading files at run time
# (the dashboard's page). Run as
#   cmake -DIN=file -DOUT=file.c -DNAME=symbol -P embed_text.cmake
file(READ "${IN}" text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\t" "\\t" text "${text}")
string(REPLACE "\n" "\\n\"\n\"" text "${text}")
get_filename_component(src "${IN}" NAME)
file(WRITE "${OUT}" "/* Generated from ${src} by cmake/embed_text.cmake: do not edit. */\n"
  "const char ${NAME}[] =\n\"${text}\";\n")
