/*
 * Fuzz target: the configuration reader.  The input is read as -g
 * parameters (the main context) in front of an empty file; it must be
 * accepted or refused with errors, never crash, and a refused input
 * leaves nothing allocated.
 */
#include "../../common/conf.c"
#include "../../common/conf_dir.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char empty[64];
	struct gen *g;
	char *params;

	if (empty[0] == '\0') {
		int fd;

		snprintf(empty, sizeof(empty), "/tmp/portico-fuzz-XXXXXX");
		if ((fd = mkstemp(empty)) == -1)
			abort();
		close(fd);
		log_open("/dev/null", LOG_DEBUG);
	}
	/*
	 * Keep the fuzzer local and quick: host names in listen, upstream
	 * servers and proxy_pass would be looked up, and an include of a
	 * pattern such as "/" followed by "*" would read the whole file
	 * system
	 */
	if (size > 16384 || memmem(data, size, "listen", 6) != NULL ||
	    memmem(data, size, "upstream", 8) != NULL ||
	    memmem(data, size, "proxy_pass", 10) != NULL ||
	    memmem(data, size, "include", 7) != NULL)
		return 0;
	if ((params = malloc(size + 1)) == NULL)
		return 0;
	memcpy(params, data, size);
	params[size] = '\0';
	g = conf_load("/tmp/", empty, params, 0);
	conf_free(g);
	free(params);
	return 0;
}
