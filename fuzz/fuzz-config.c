/* libFuzzer target for the config parser (src/config): any input either
 * loads or fails with an error, and what loads dumps back to text that
 * loads to the same settings. */
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check_round_trip(const struct tern_config *config)
{
	struct tern_config *config2;
	string_t *dump1 = t_str_new(1024), *dump2 = t_str_new(1024);
	const char *error;

	config_dump(config, false, dump1);
	if (config_load_string(str_c(dump1), "dump", NULL, &config2, &error) < 0)
		i_panic("dump does not load: %s\n%s", error, str_c(dump1));
	config_dump(config2, false, dump2);
	if (strcmp(str_c(dump1), str_c(dump2)) != 0)
		i_panic("dump changed on reload:\n%s\n---\n%s", str_c(dump1), str_c(dump2));
	config_free(&config2);

	/* the non-default dump describes the same settings */
	str_truncate(dump2, 0);
	config_dump(config, true, dump2);
	if (config_load_string(str_c(dump2), "dump", NULL, &config2, &error) < 0)
		i_panic("non-default dump does not load: %s\n%s", error, str_c(dump2));
	str_truncate(dump2, 0);
	config_dump(config2, false, dump2);
	if (strcmp(str_c(dump1), str_c(dump2)) != 0)
		i_panic("non-default dump loses settings:\n%s\n---\n%s", str_c(dump1),
			str_c(dump2));
	config_free(&config2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* config_load_string takes a C string: a NUL ends the text */
	char *text = i_malloc(size + 1);
	struct tern_config *config;
	const char *error;

	memcpy(text, data, size);
	text[size] = '\0';
	/* "fuzz" has no directory part, so include is refused and the
	   fuzzer never reads files */
	if (config_load_string(text, "fuzz", NULL, &config, &error) == 0) {
		fuzz_check_round_trip(config);
		config_free(&config);
	}
	free(text);
	t_pool_clear();
	return 0;
}
