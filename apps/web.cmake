# roomcast_web_bundle(TARGET SRC_DIR OUT_DIR): bundles a demo page with esbuild
# (apps/build-web.mjs; npm packages in apps/node_modules, installed by
# scripts/setup.sh) into OUT_DIR, before TARGET is built. Without the npm
# packages the binary is built without its page, with a warning.
function(roomcast_web_bundle target src_dir out_dir)
  find_program(NODE_EXECUTABLE node)
  set(apps_dir ${PROJECT_SOURCE_DIR}/apps)
  if(NOT NODE_EXECUTABLE OR NOT EXISTS ${apps_dir}/node_modules/esbuild)
    message(WARNING "apps/node_modules is missing (run scripts/setup.sh): "
                    "${target} is built without its page")
    return()
  endif()
  if(NOT EXISTS ${src_dir}/app.js)
    message(WARNING "${src_dir}/app.js is missing: ${target} is built without its page")
    return()
  endif()
  file(GLOB sources CONFIGURE_DEPENDS ${src_dir}/* ${apps_dir}/web-common/*)
  add_custom_command(
    OUTPUT ${out_dir}/app.js
    COMMAND ${NODE_EXECUTABLE} ${apps_dir}/build-web.mjs ${src_dir} ${out_dir}
    DEPENDS ${sources} ${apps_dir}/build-web.mjs ${apps_dir}/package-lock.json
    WORKING_DIRECTORY ${apps_dir}
    COMMENT "Bundling the page of ${target} (esbuild)")
  add_custom_target(${target}_web ALL DEPENDS ${out_dir}/app.js)
  add_dependencies(${target} ${target}_web)
endfunction()
