# Fails if any object of the given static libraries references the heap
# (undefined malloc, calloc, realloc, free, aligned_alloc, posix_memalign).
# Usage: cmake -DNM=<nm> -DLIBS=<lib;lib> -P check_no_malloc.cmake
foreach(lib ${LIBS})
  execute_process(COMMAND ${NM} -u ${lib} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${lib}")
  endif()
  string(REGEX MATCHALL "[ \t]U[ \t]+(malloc|calloc|realloc|free|aligned_alloc|posix_memalign)\n"
    hits "${out}\n")
  if(hits)
    message(FATAL_ERROR "${lib} references the heap:\n${hits}")
  endif()
  message(STATUS "${lib}: no heap references")
endforeach()
