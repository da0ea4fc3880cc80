# Writes a C++ source holding every *.sql migration of DIR as a raw string literal, sorted by
# file name, so the binary carries its own schema. Called at build time by src/CMakeLists.txt.
file(GLOB files "${DIR}/*.sql")
list(SORT files)
set(body "#include \"store/migrations.hpp\"\nnamespace parley::store {\nconst std::vector<MigrationSource>& ${NAME}_migrations() {\n  static const std::vector<MigrationSource> all = {\n")
foreach(f ${files})
  get_filename_component(fname "${f}" NAME)
  file(READ "${f}" sql)
  string(APPEND body "    {\"${fname}\", R\"PARLEYSQL(${sql})PARLEYSQL\"},\n")
endforeach()
string(APPEND body "  };\n  return all;\n}\n}  // namespace parley::store\n")
file(WRITE "${OUT}.tmp" "${body}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
