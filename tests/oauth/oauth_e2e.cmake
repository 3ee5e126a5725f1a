# End-to-end tests of the authorization server (label "oauth"): a real server process
# (oauth_test_server, built from apps/tollgate/oauth_serve.cpp) driven by clients nobody here
# wrote: openid-client and jose (npm, tests/oauth/js), Chromium through playwright-core, PyJWT.
# Included from tests/unit/oauth/CMakeLists.txt.
if(NOT TARGET tollgate::net)
  return()
endif()
add_executable(oauth_test_server ${PROJECT_SOURCE_DIR}/tests/oauth/oauth_test_server.cpp
                                 ${PROJECT_SOURCE_DIR}/apps/tollgate/oauth_serve.cpp)
target_link_libraries(oauth_test_server PRIVATE tollgate::oauth tollgate::net tollgate::common Boost::json)
tollgate_warnings(oauth_test_server)

# `tollgate admin` commands, built on their own until apps/tollgate wires them in.
add_executable(oauth_admin_cli ${PROJECT_SOURCE_DIR}/tests/oauth/admin_cli_main.cpp
                               ${PROJECT_SOURCE_DIR}/apps/tollgate/admin.cpp)
target_link_libraries(oauth_admin_cli PRIVATE tollgate::oauth CLI11::CLI11)
tollgate_warnings(oauth_admin_cli)
add_test(NAME oauth.admin_cli COMMAND ${PROJECT_SOURCE_DIR}/tests/oauth/admin_cli_test.sh $<TARGET_FILE:oauth_admin_cli>)
set_tests_properties(oauth.admin_cli PROPERTIES LABELS "oauth" TIMEOUT 120)

set(oauth_js_dir ${PROJECT_SOURCE_DIR}/tests/oauth/js)
# Tests that register clients or rotate keys while the server runs use oauth_admin_cli.
foreach(flow client_credentials authorization_code device revocation private_key_jwt tls_client_auth
             password implicit key_rotation consent_logout)
  add_test(NAME oauth.e2e.${flow}
           COMMAND node --test ${oauth_js_dir}/${flow}.test.mjs)
  set_tests_properties(oauth.e2e.${flow} PROPERTIES
    LABELS "oauth" TIMEOUT 180
    ENVIRONMENT "OAUTH_TEST_SERVER=$<TARGET_FILE:oauth_test_server>;OAUTH_ADMIN_CLI=$<TARGET_FILE:oauth_admin_cli>;NODE_PATH=${oauth_js_dir}/node_modules")
endforeach()
add_test(NAME oauth.e2e.pyjwt COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tests/oauth/pyjwt_verify.py
                                      $<TARGET_FILE:oauth_test_server>)
set_tests_properties(oauth.e2e.pyjwt PROPERTIES LABELS "oauth" TIMEOUT 120)

