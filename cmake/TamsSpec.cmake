# SPDX-License-Identifier: Apache-2.0
# TamsSpec.cmake - where the TAMS specs the tests load live: for each version, the folder that
# holds TimeAddressableMediaStore.yaml, schemas/ and examples/ (api/ in bbc/tams at the tag).
#
#   version  variable          submodule              sibling
#   7.0      TAMS_SPEC_DIR     spec/tams (tag 7.0)    ../shared/spec/tams-7.0
#   8.2      TAMS_SPEC82_DIR   spec/tams-8.2 (8.2)    ../shared/spec/tams-8.2
#
# This file is the one place that decides it. For a version it looks, in this order, at
#   1. its variable: the CMake cache variable, else the environment variable;
#   2. its submodule's api/ folder, once populated (git submodule update --init spec/...);
#   3. a sibling checkout beside the repository.
# A folder named by the variable must hold the spec; it is never passed over for another.
#
# include()d, tams_spec_find(VAR [VERSION]) (VERSION 7.0 when not given) sets VAR to the absolute
# folder, or to "" and VAR_WHY to one line that says how to get the spec. Run as a script,
# `cmake [-DTAMS_SPEC_VERSION=8.2] -P cmake/TamsSpec.cmake` prints the folder on stdout and exits
# 0, or prints that line on stdout and exits 1 (scripts/*.sh ask it this way).

get_filename_component(_tams_spec_repo "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

function(_tams_spec_complete dir out)
  if(EXISTS "${dir}/TimeAddressableMediaStore.yaml" AND IS_DIRECTORY "${dir}/schemas"
     AND IS_DIRECTORY "${dir}/examples")
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# The variable, submodule and sibling of a version.
function(_tams_spec_places version var_out sub_out sib_out)
  if(version STREQUAL "7.0")
    set(${var_out} TAMS_SPEC_DIR PARENT_SCOPE)
    set(${sub_out} spec/tams PARENT_SCOPE)
  elseif(version STREQUAL "8.2")
    set(${var_out} TAMS_SPEC82_DIR PARENT_SCOPE)
    set(${sub_out} spec/tams-8.2 PARENT_SCOPE)
  else()
    message(FATAL_ERROR "TamsSpec.cmake: no TAMS spec version '${version}' (7.0 or 8.2)")
  endif()
  set(${sib_out} "../shared/spec/tams-${version}" PARENT_SCOPE)
endfunction()

function(tams_spec_find out)
  set(version "7.0")
  if(ARGC GREATER 1)
    set(version "${ARGV1}")
  endif()
  _tams_spec_places("${version}" var sub sib)
  set(named "${${var}}")
  if(named STREQUAL "" AND DEFINED ENV{${var}})
    set(named "$ENV{${var}}")
  endif()
  set(${out} "" PARENT_SCOPE)
  if(NOT named STREQUAL "")
    get_filename_component(dir "${named}" ABSOLUTE BASE_DIR "${_tams_spec_repo}")
    _tams_spec_complete("${dir}" ok)
    if(ok)
      set(${out} "${dir}" PARENT_SCOPE)
    else()
      set(${out}_WHY "tamsd: ${var}='${named}' is not the TAMS ${version} spec folder (it needs TimeAddressableMediaStore.yaml, schemas/ and examples/)" PARENT_SCOPE)
    endif()
    return()
  endif()
  foreach(dir "${_tams_spec_repo}/${sub}/api" "${_tams_spec_repo}/${sib}")
    get_filename_component(dir "${dir}" ABSOLUTE)
    _tams_spec_complete("${dir}" ok)
    if(ok)
      set(${out} "${dir}" PARENT_SCOPE)
      return()
    endif()
  endforeach()
  set(${out}_WHY "tamsd: the tests need the TAMS ${version} spec: run 'git submodule update --init ${sub}', or set ${var}=/path/to/tams/api (the folder with TimeAddressableMediaStore.yaml, schemas/, examples/), or configure with -DTAMS_TESTS=OFF" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE STREQUAL CMAKE_CURRENT_LIST_FILE)
  if(NOT DEFINED TAMS_SPEC_VERSION)
    set(TAMS_SPEC_VERSION "7.0")
  endif()
  tams_spec_find(_tams_spec "${TAMS_SPEC_VERSION}")
  if(_tams_spec STREQUAL "")
    # The line goes to stdout like the folder would; the error only sets the exit status.
    execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${_tams_spec_WHY}")
    message(FATAL_ERROR " no TAMS ${TAMS_SPEC_VERSION} spec found")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E echo "${_tams_spec}")
endif()
