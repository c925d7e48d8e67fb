#include "state.h"

#include <stdlib.h>
#include <string.h>

#include "fileutil.h"
#include "util.h"
#include "banned.h"

static char *state_path(const char *data_dir, const char *repo)
{
	return xstrfmt("%s/state/%s.json", data_dir, repo);
}

json_t *state_load(const char *data_dir, const char *repo)
{
	char *path = state_path(data_dir, repo);
	json_t *state = json_load_file(path, 0, NULL);

	free(path);
	if (!json_is_object(state)) {
		json_decref(state);
		state = json_object();
	}
	if (!json_is_object(json_object_get(state, "refs")))
		json_object_set_new(state, "refs", json_object());
	if (!json_is_object(json_object_get(state, "envs")))
		json_object_set_new(state, "envs", json_object());
	return state;
}

int state_save(const char *data_dir, const char *repo, const json_t *state)
{
	char *dir = xstrfmt("%s/state", data_dir), *path = state_path(data_dir, repo);
	char *text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = -1;

	if (text && mkdir_p(dir, 0700) == 0)
		rc = write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	free(dir);
	free(path);
	return rc;
}
