# SPDX-License-Identifier: Apache-2.0
# TamsSpec.cmake - where the TAMS 7.0 spec the tests load lives: the folder that holds
# TimeAddressableMediaStore.yaml, schemas/ and examples/ (api/ in bbc/tams at tag 7.0).
#
# This file is the one place that decides it. It looks, in this order, at
#   1. TAMS_SPEC_DIR: the CMake cache variable, else the environment variable;
#   2. the submodule spec/tams, once populated (git submodule update --init spec/tams);
#   3. a sibling checkout ../shared/spec/tams-7.0 beside the repository.
# A folder named by TAMS_SPEC_DIR must hold the spec; it is never passed over for another.
#
# include()d, tams_spec_find(VAR) sets VAR to the absolute folder, or to "" and VAR_WHY to one
# line that says how to get the spec. Run as a script, `cmake -P cmake/TamsSpec.cmake` prints
# the folder on stdout and exits 0, or prints that line on stdout and exits 1 (scripts/*.sh ask
# it this way).

get_filename_component(_tams_spec_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

function(_tams_spec_complete dir out)
  if(EXISTS "${dir}/TimeAddressableMediaStore.yaml" AND IS_DIRECTORY "${dir}/schemas"
     AND IS_DIRECTORY "${dir}/examples")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

function(tams_spec_find out)
  set(named "${TAMS_SPEC_DIR}")
  if(named STREQUAL "" AND DEFINED ENV{TAMS_SPEC_DIR})
    set(named "$ENV{TAMS_SPEC_DIR}")
  endif()
  set(${out} "" PARENT_SCOPE)
  if(NOT named STREQUAL "")
    get_filename_component(dir "${named}" ABSOLUTE BASE_DIR "${_tams_spec_repo}")
    _tams_spec_complete("${dir}" ok)
    if(ok)
      set(${out} "${dir}" PARENT_SCOPE)
    else()
      set(${out}_WHY "tamsd: TAMS_SPEC_DIR='${named}' is not the TAMS 7.0 spec folder (it needs TimeAddressableMediaStore.yaml, schemas/ and examples/)" PARENT_SCOPE)
    endif()
    return()
  endif()
  foreach(dir "${_tams_spec_repo}/spec/tams/api" "${_tams_spec_repo}/../shared/spec/tams-7.0")
    get_filename_component(dir "${dir}" ABSOLUTE)
    _tams_spec_complete("${dir}" ok)
    if(ok)
      set(${out} "${dir}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out}_WHY "tamsd: the tests need the TAMS 7.0 spec: run 'git submodule update --init spec/tams', or set TAMS_SPEC_DIR=/path/to/tams/api (the folder with TimeAddressableMediaStore.yaml, schemas/, examples/), or configure with -DTAMS_TESTS=OFF" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  tams_spec_find(_tams_spec)
  if(_tams_spec STREQUAL "")
    # The line goes to stdout like the folder would; the error only sets the exit status.
    execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${_tams_spec_WHY}")
    message(FATAL_ERROR " no TAMS 7.0 spec found")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${_tams_spec}")
endif()
