{
  "targets": [
    {
      "target_name": "sluicegate",
      "sources": [
        "src/args.c",
        "src/breaker.c",
        "src/library.c",
        "src/limiter.c",
        "src/listener.c",
        "src/module.c",
        "src/registry.c"
      ],
      "include_dirs": ["../../include"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wshadow", "-Wstrict-prototypes"],
      "libraries": ["-ldl"]
    }
  ]
}
