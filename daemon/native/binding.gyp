{
  "targets": [
    {
      "target_name": "nydus_native",
      "sources": [
        "src/addon.c",
        "src/poller.c",
        "src/syscalls.c",
        "src/unix_socket.c",
        "src/codecs.c",
        "src/read_threads.c",
        "src/dir_warm.c",
        "src/dir_cursor.c",
        "src/erofs_listing.c"
      ],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-D_GNU_SOURCE"],
      "libraries": ["-lzstd", "-llz4"]
    }
  ]
}
