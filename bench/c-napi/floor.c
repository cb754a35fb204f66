// The floor of any Node addon: a Node-API function that does nothing, one that adds two int32s
// (argument fetch, two conversions in, one out), and one that calls a JS function n times the
// way a host call must (a handle scope, an int32 in, napi_call_function, an int32 out). `npm run bench` compares our call paths
// with these (bench/calls.mjs), built by bench/c-napi/build.mjs with the system C compiler.
#include <node_api.h>

static napi_value noop(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  return NULL;
}

static napi_value add(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t a = 0, b = 0;
  napi_value out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[0], &a);
  napi_get_value_int32(env, argv[1], &b);
  napi_create_int32(env, a + b, &out);
  return out;
}

static napi_value call_n(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], undefined, out;
  int32_t n = 0, acc = 0;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32(env, argv[1], &n);
  napi_get_undefined(env, &undefined);
  for (int32_t i = n; i > 0; i--) {
    napi_handle_scope scope;
    napi_value arg, ret;
    int32_t x = 0;
    napi_open_handle_scope(env, &scope);
    napi_create_int32(env, i, &arg);
    napi_call_function(env, undefined, argv[0], 1, &arg, &ret);
    napi_get_value_int32(env, ret, &x);
    acc += x;
    napi_close_handle_scope(env, scope);
  }
  napi_create_int32(env, acc, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"noop", NULL, noop, NULL, NULL, NULL, napi_default, NULL},
    {"add", NULL, add, NULL, NULL, NULL, napi_default, NULL},
    {"callN", NULL, call_n, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
