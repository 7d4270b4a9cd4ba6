{
  "targets": [
    {
      "target_name": "zircon_ipc",
      "sources": [
        "native/core/koid.cc",
        "native/core/platform.cc",
        "native/core/poller.cc",
        "native/core/transport_stream.cc",
        "native/core/handle_table.cc",
        "native/core/object.cc",
        "native/core/object_kinds.cc",
        "native/core/wire_format.cc",
        "native/core/endpoint.cc",
        "native/core/endpoint_outbound.cc",
        "native/core/endpoint_inbound.cc",
        "native/core/endpoint_calls.cc",
        "native/core/channel.cc",
        "native/core/channel_batch.cc",
        "native/core/handle_ops.cc",
        "native/core/object_info.cc",
        "native/core/property.cc",
        "native/core/wait.cc",
        "native/core/fdio.cc",
        "native/core/service.cc",
        "native/core/exit_flush.cc",
        "native/core/event.cc",
        "native/core/user_signals.cc",
        "native/core/thread_wake.cc",
        "native/core/doorbell.cc",
        "native/core/vmo.cc",
        "native/core/vmo_ops.cc",
        "native/core/shared_memory.cc",
        "native/core/socket.cc",
        "native/core/datagram_frames.cc",
        "native/core/unix_peer.cc",
        "native/core/port.cc",
        "native/core/port_syscalls.cc",
        "native/core/port_transfer.cc",
        "native/core/timer.cc",
        "native/binding/channel_js.cc",
        "native/binding/wait_js.cc",
        "native/binding/handle_js.cc",
        "native/binding/fdio_js.cc",
        "native/binding/env_loop.cc",
        "native/binding/env_loop_watch.cc",
        "native/binding/env_loop_ops.cc",
        "native/binding/env_loop_listener.cc",
        "native/binding/env_loop_drain.cc",
        "native/binding/addon.cc",
        "native/binding/layout_js.cc",
        "native/binding/event_js.cc",
        "native/binding/vmo_js.cc",
        "native/binding/socket_js.cc",
        "native/binding/port_js.cc",
        "native/binding/timer_js.cc",
        "native/binding/teardown_js.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "OTHER_CPLUSPLUSFLAGS": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
          }
        }],
        ["OS!='linux' and OS!='mac'", { "type": "none" }]
      ]
    }
  ]
}
