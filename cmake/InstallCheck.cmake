# SPDX-License-Identifier: Apache-2.0
# InstallCheck.cmake - the install rules, checked: `cmake --install BUILD_DIR --prefix PREFIX`
# into an empty PREFIX, then every file a package needs must be where it belongs, and the
# installed tamsd must run. Used as a test (ctest: install):
#   cmake -DBUILD_DIR=build -DPREFIX=build/install-test -P cmake/InstallCheck.cmake
foreach(var BUILD_DIR PREFIX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "InstallCheck.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install failed (${rc}):\n${out}")
endif()

set(missing "")
foreach(f bin/tamsd bin/tams share/man/man1/tams.1 etc/tamsd/tamsd.conf
    share/doc/tamsd/README.md share/doc/tamsd/CONTRIBUTING.md share/doc/tamsd/LICENSE
    share/doc/tamsd/docs/configuration.md share/doc/tamsd/docs/authentication.md
    share/doc/tamsd/docs/spec-notes.md share/doc/tamsd/docs/design.md
    share/doc/tamsd/docs/internals/store.md)
  if(NOT EXISTS "${PREFIX}/${f}")
    string(APPEND missing " ${f}")
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "not installed under ${PREFIX}:${missing}")
endif()

# The installed program runs, and reads the installed config file (all of it commented out).
# It runs in an empty environment: tamsd refuses TAMS_* variables it does not know, and the
# tests' own (TAMS_SPEC_DIR, TAMS_TEST_DATABASE) may be set.
execute_process(COMMAND env -i "${PREFIX}/bin/tamsd" --version RESULT_VARIABLE rc
  OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^tamsd ")
  message(FATAL_ERROR "installed tamsd --version: exit ${rc}, '${out}'")
endif()
execute_process(COMMAND env -i "${PREFIX}/bin/tamsd" user list
    --config "${PREFIX}/etc/tamsd/tamsd.conf" --data-dir "${PREFIX}/data"
  RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installed tamsd with the installed config: exit ${rc}: ${err}")
endif()
# The installed client runs too.
execute_process(COMMAND env -i "${PREFIX}/bin/tams" version RESULT_VARIABLE rc
  OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^tams ")
  message(FATAL_ERROR "installed tams version: exit ${rc}, '${out}'")
endif()
file(REMOVE_RECURSE "${PREFIX}")
message(STATUS "install check passed")
