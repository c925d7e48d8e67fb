#include "yamlload.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <yaml.h>

#include "strbuf.h"
#include "util.h"
#include "yamlscalar.h"
#include "banned.h"

#define RULE "yaml"
/* Deeper nesting is refused whatever the caller asks: alias copies and jansson recurse. */
#define DEPTH_CAP 1000
/* And more nodes than this: the position table indexes its entries with 32 bits. */
#define NODES_CAP ((size_t)1 << 30)
#define ARENA_CHUNK 65536
#define NONE SIZE_MAX
/* The index of a container's own entry in the position table. */
#define SELF SIZE_MAX

/* ---- strings that live as long as the ydoc ---- */

struct chunk {
	struct chunk *next;
	size_t used, size;
	char data[];
};

static char *arena_alloc(struct chunk **head, size_t n)
{
	struct chunk *c = *head;

	if (n > ARENA_CHUNK / 4) {
		/* A big string gets a chunk of its own, behind the current one. */
		struct chunk *big = xmalloc(st_add(sizeof(*big), n));

		big->used = big->size = n;
		big->next = c ? c->next : NULL;
		if (c)
			c->next = big;
		else
			*head = big;
		return big->data;
	}
	if (!c || c->size - c->used < n) {
		c = xmalloc(sizeof(*c) + ARENA_CHUNK);
		c->next = *head;
		c->used = 0;
		c->size = ARENA_CHUNK;
		*head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static const char *arena_strndup(struct chunk **head, const char *s, size_t n)
{
	char *p = arena_alloc(head, st_add(n, 1));

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void arena_free(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

/* ---- the position table: (container, key) / (container, index) -> ymember ---- */

struct yentry {
	const json_t *container;
	const char *key; /* in the arena; NULL for items and for the container itself */
	size_t index;    /* item index; SELF for the container itself; 0 for members */
	uint64_t hash;
	unsigned explicit_line; /* a member written in its mapping: the key's line */
	int merged;             /* the value came from a merge key (<<) */
	struct ymember m;
};

struct yslot {
	uint32_t entry; /* index into v plus one; 0 is empty */
	uint32_t tag;   /* the high half of the entry's hash: most probes need not read the entry */
};

struct ytable {
	struct yentry *v;
	size_t nr, alloc;
	struct yslot *slots;
	size_t nslots; /* a power of two, more than twice nr */
	uint64_t seed[2];
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13) ^ v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17) ^ v[2];
	v[2] = ROTL(v[2], 32);
}

static void sip_compress(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-1-3: keys come from the file, so the table must not be open to chosen collisions. */
static uint64_t siphash(const uint64_t k[2], const unsigned char *p, size_t n)
{
	uint64_t v[4] = { k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
			  k[0] ^ 0x6c7967656e657261ULL, k[1] ^ 0x7465646279746573ULL };
	uint64_t last = (uint64_t)n << 56;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t m = 0;

		for (int j = 7; j >= 0; j--)
			m = m << 8 | p[i + (size_t)j];
		sip_compress(v, m);
	}
	for (size_t j = 0; i + j < n; j++)
		last |= (uint64_t)p[i + j] << (8 * j);
	sip_compress(v, last);
	v[2] ^= 0xff;
	for (int r = 0; r < 3; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t table_hash(const struct ytable *t, const json_t *c, const char *key, size_t index)
{
	uint64_t h = mix64((uint64_t)(uintptr_t)c ^ t->seed[0]) ^ mix64((uint64_t)index + t->seed[1]);

	if (key)
		h ^= siphash(t->seed, (const unsigned char *)key, strlen(key));
	return h;
}

static int entry_is(const struct yentry *e, uint64_t h, const json_t *c, const char *key, size_t index)
{
	if (e->hash != h || e->container != c || e->index != index)
		return 0;
	return key ? e->key && !strcmp(e->key, key) : !e->key;
}

/* Index in t->v of the entry, or NONE and in *empty the free slot where it would go. */
static size_t table_find(const struct ytable *t, uint64_t h, const json_t *c, const char *key, size_t index,
			 size_t *empty)
{
	size_t mask = t->nslots - 1, i;

	for (i = h & mask; t->slots[i].entry; i = (i + 1) & mask) {
		const struct yslot *s = &t->slots[i];

		if (s->tag == (uint32_t)(h >> 32) && entry_is(&t->v[s->entry - 1], h, c, key, index))
			return s->entry - 1;
	}
	*empty = i;
	return NONE;
}

static void table_grow(struct ytable *t)
{
	size_t n = t->nslots ? st_mult(t->nslots, 2) : 256;

	free(t->slots);
	t->slots = xcalloc(n, sizeof(*t->slots));
	t->nslots = n;
	for (size_t k = 0; k < t->nr; k++) {
		uint64_t h = t->v[k].hash;
		size_t i = h & (n - 1);

		while (t->slots[i].entry)
			i = (i + 1) & (n - 1);
		t->slots[i].entry = (uint32_t)(k + 1);
		t->slots[i].tag = (uint32_t)(h >> 32);
	}
}

/* The entry for (c, key, index), created empty if new; key must live in the arena. */
static struct yentry *table_get(struct ytable *t, const json_t *c, const char *key, size_t index)
{
	uint64_t h = table_hash(t, c, key, index);
	size_t k, slot = 0;
	struct yentry *e;

	if (st_mult(t->nr + 1, 2) >= t->nslots)
		table_grow(t);
	k = table_find(t, h, c, key, index, &slot);
	if (k != NONE)
		return &t->v[k];
	if (t->nr >= UINT32_MAX - 1)
		die("too many YAML nodes");
	ALLOC_GROW(t->v, t->nr + 1, t->alloc);
	e = &t->v[t->nr];
	memset(e, 0, sizeof(*e));
	e->container = c;
	e->key = key;
	e->index = index;
	e->hash = h;
	t->slots[slot].entry = (uint32_t)++t->nr;
	t->slots[slot].tag = (uint32_t)(h >> 32);
	return e;
}

static const struct yentry *table_lookup(const struct ytable *t, const json_t *c, const char *key,
					 size_t index)
{
	size_t empty, k = t->nslots ? table_find(t, table_hash(t, c, key, index), c, key, index, &empty) : NONE;

	return k == NONE ? NULL : &t->v[k];
}

static void table_seed(struct ytable *t)
{
	if (getrandom(t->seed, sizeof(t->seed), GRND_NONBLOCK) == (ssize_t)sizeof(t->seed))
		return;
	/* No entropy yet (early boot): positions stay correct, only collision resistance suffers. */
	t->seed[0] = mix64((uint64_t)time(NULL));
	t->seed[1] = mix64((uint64_t)(uintptr_t)t);
}

/* ---- the loaded documents ---- */

struct ydocument {
	json_t *root;
	struct ypos pos;
};

struct ydoc {
	char *file;
	struct ydocument *docs;
	size_t nr, alloc;
	struct ytable table;
	json_t **held; /* a reference on every container in the table, so pointers stay unique */
	size_t held_nr, held_alloc;
	struct chunk *arena;
};

static struct ydoc *ydoc_new(const char *file)
{
	struct ydoc *doc = xcalloc(1, sizeof(*doc));

	doc->file = xstrdup(file ? file : "");
	table_seed(&doc->table);
	return doc;
}

void ydoc_free(struct ydoc *doc)
{
	if (!doc)
		return;
	for (size_t i = 0; i < doc->nr; i++)
		json_decref(doc->docs[i].root);
	for (size_t i = 0; i < doc->held_nr; i++)
		json_decref(doc->held[i]);
	free(doc->docs);
	free(doc->held);
	free(doc->table.v);
	free(doc->table.slots);
	arena_free(doc->arena);
	free(doc->file);
	free(doc);
}

/* Remember a new container and where it starts. */
static void ydoc_hold(struct ydoc *doc, json_t *node, struct ypos pos)
{
	ALLOC_GROW(doc->held, doc->held_nr + 1, doc->held_alloc);
	doc->held[doc->held_nr++] = json_incref(node);
	table_get(&doc->table, node, NULL, SELF)->m.value = pos;
}

const char *ydoc_file(const struct ydoc *doc)
{
	return doc->file;
}

size_t ydoc_count(const struct ydoc *doc)
{
	return doc->nr;
}

json_t *ydoc_root(const struct ydoc *doc, size_t i)
{
	return i < doc->nr ? doc->docs[i].root : NULL;
}

struct ypos ydoc_root_pos(const struct ydoc *doc, size_t i)
{
	struct ypos none = { 0, 0 };

	return i < doc->nr ? doc->docs[i].pos : none;
}

struct ypos ydoc_pos(const struct ydoc *doc, const json_t *container)
{
	const struct yentry *e = container ? table_lookup(&doc->table, container, NULL, SELF) : NULL;
	struct ypos none = { 0, 0 };

	return e ? e->m.value : none;
}

const struct ymember *ydoc_member(const struct ydoc *doc, const json_t *obj, const char *key)
{
	const struct yentry *e = obj && key ? table_lookup(&doc->table, obj, key, 0) : NULL;

	return e ? &e->m : NULL;
}

const struct ymember *ydoc_item(const struct ydoc *doc, const json_t *arr, size_t index)
{
	const struct yentry *e = arr && index != SELF ? table_lookup(&doc->table, arr, NULL, index) : NULL;

	return e ? &e->m : NULL;
}

/* ---- loading ---- */

enum key_state {
	KEY_NONE,  /* the next node is a key */
	KEY_READY, /* the next node is the value of key */
	KEY_MERGE, /* the next node is merged in (<<) */
	KEY_SKIP,  /* the key was refused: drop the next node */
};

/* A mapping's key waiting for its value. */
struct ykey {
	enum key_state state;
	const char *name; /* arena */
	struct ypos pos;
	const char *source;
};

/* An open mapping or sequence. */
struct yframe {
	json_t *node; /* owned until attached to its parent */
	int is_map;
	int is_key; /* it is itself a mapping key: refused when it ends */
	struct ypos pos;
	const char *anchor;
	size_t anchor_seq;
	size_t first; /* nodes counted before it, for the anchor's size */
	unsigned height;
	struct ykey key;
	struct ypos merge_pos; /* the first << key; line 0 if none */
};

struct yanchor {
	json_t *node; /* a reference; NULL for a scalar, which is rebuilt from its text */
	size_t seq;   /* order of the anchors' appearance in the document */
	size_t size;     /* nodes it expands to */
	unsigned height; /* 0 for a scalar */
	int failed;      /* the scalar was refused (already reported) */
	struct yscalar scalar;
	const char *text; /* a scalar's text, in the arena */
	size_t len;
	const char *source;
};

struct yload {
	struct ydoc *doc;
	struct diags *d;
	struct ylimits lim;
	const char *buf;
	size_t len;
	yaml_parser_t parser;
	struct yframe *stack;
	size_t depth, stack_alloc;
	json_t *root;
	struct ypos root_pos;
	json_t *anchor_index; /* name -> index into anchors */
	struct yanchor *anchors;
	size_t anchors_nr, anchors_alloc;
	size_t anchor_seq; /* anchors seen so far */
	size_t nodes;     /* in the whole stream, counting alias expansions */
	size_t doc_nodes; /* the same in the current document */
	size_t doc_alias_nodes;
	int failed;
	struct strbuf msg, keybuf;
};

static void report(struct yload *ld, enum diag_severity sev, struct ypos pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct yload *ld, enum diag_severity sev, struct ypos pos, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	diags_add(ld->d, sev, ld->doc->file, pos.line, pos.col, RULE, "%s", sb.buf);
	strbuf_release(&sb);
	if (sev == DIAG_ERROR)
		ld->failed = 1;
}

#define fail(ld, pos, ...) report((ld), DIAG_ERROR, (pos), __VA_ARGS__)

static unsigned clamp_uint(size_t n)
{
	return n >= UINT_MAX ? UINT_MAX : (unsigned)n;
}

static struct ypos mark_pos(yaml_mark_t m)
{
	struct ypos pos = { clamp_uint(m.line + 1), clamp_uint(m.column + 1) };

	return pos;
}

static struct yframe *top(struct yload *ld)
{
	return ld->depth ? &ld->stack[ld->depth - 1] : NULL;
}

static int in_key_position(struct yload *ld)
{
	struct yframe *f = top(ld);

	return f && f->is_map && f->key.state == KEY_NONE;
}

static const char *arena_copy(struct yload *ld, const char *s, size_t n)
{
	return arena_strndup(&ld->doc->arena, s, n);
}

/* Count n more nodes; refuse the file past max_nodes (alias names the alias that would expand). */
static int count_nodes(struct yload *ld, size_t n, struct ypos pos, const char *alias)
{
	if (n <= ld->lim.max_nodes && ld->nodes <= ld->lim.max_nodes - n) {
		ld->nodes += n;
		ld->doc_nodes += n;
		return 0;
	}
	if (alias)
		fail(ld, pos,
		      "alias *%s would expand the file to more than %zu nodes; refusing it, since"
		      " aliases that multiply like this are a known attack (\"billion laughs\")",
		      alias, ld->lim.max_nodes);
	else
		fail(ld, pos, "the file has more than %zu nodes; split it into smaller files",
		      ld->lim.max_nodes);
	return -1;
}

/*
 * go-yaml v2's defence against alias bombs (CVE-2019-11253), which Kubernetes
 * relies on: past 1000 nodes, at most 99% of them may come from aliases,
 * scaling down to 10% between 400,000 and 4,000,000 nodes.
 */
static int excessive_aliasing(size_t alias_nodes, size_t nodes)
{
	double allowed = 0.99;

	if (alias_nodes <= 100 || nodes <= 1000)
		return 0;
	if (nodes >= 4000000)
		allowed = 0.10;
	else if (nodes > 400000)
		allowed = 0.99 - 0.89 * ((double)(nodes - 400000) / 3600000.0);
	return (double)alias_nodes / (double)nodes > allowed;
}

/* Count the nodes alias *name expands to (plus the alias itself), as go-yaml does. */
static int count_alias(struct yload *ld, const char *name, size_t size, struct ypos pos)
{
	if (count_nodes(ld, st_add(size, 1), pos, name) < 0)
		return -1;
	ld->doc_alias_nodes += size;
	if (!excessive_aliasing(ld->doc_alias_nodes, ld->doc_nodes))
		return 0;
	fail(ld, pos,
	     "alias *%s makes the document almost entirely alias expansions (%zu of %zu nodes);"
	     " Kubernetes refuses such \"excessive aliasing\", a known attack (\"billion laughs\")",
	     name, ld->doc_alias_nodes, ld->doc_nodes);
	return -1;
}

static int check_depth(struct yload *ld, unsigned more, struct ypos pos, const char *alias)
{
	if (more <= ld->lim.max_depth && ld->depth <= ld->lim.max_depth - more)
		return 0;
	if (alias)
		fail(ld, pos, "alias *%s would nest mappings and lists more than %u levels deep", alias,
		      ld->lim.max_depth);
	else
		fail(ld, pos, "mappings and lists are nested more than %u levels deep", ld->lim.max_depth);
	return -1;
}

/* ---- anchors ---- */

/* Remember anchor name, which appeared in order seq, for the node that just ended. */
static struct yanchor *anchor_new(struct yload *ld, const char *name, size_t seq)
{
	size_t i = ld->anchors_nr;
	struct yanchor *a;

	ALLOC_GROW(ld->anchors, i + 1, ld->anchors_alloc);
	a = &ld->anchors[ld->anchors_nr++];
	memset(a, 0, sizeof(*a));
	a->seq = seq;
	/* A later anchor of the same name replaces the earlier one, as in go-yaml. */
	json_object_set_new(ld->anchor_index, name, json_integer((json_int_t)i));
	return a;
}

static struct yanchor *anchor_find(struct yload *ld, const char *name)
{
	json_t *i = json_object_get(ld->anchor_index, name);

	return i ? &ld->anchors[json_integer_value(i)] : NULL;
}

static void anchors_clear(struct yload *ld)
{
	for (size_t i = 0; i < ld->anchors_nr; i++)
		json_decref(ld->anchors[i].node);
	ld->anchors_nr = 0;
	json_object_clear(ld->anchor_index);
}

/* ---- scalars ---- */

static int resolve(struct yload *ld, struct yscalar *sc, const char *text, size_t len, const char *tag,
		   int plain, struct ypos pos)
{
	if (memchr(text, '\0', len)) {
		fail(ld, pos, "a NUL character (an escape such as \\0 or \\x00) is not allowed in a string");
		return -1;
	}
	strbuf_reset(&ld->msg);
	if (yscalar_resolve(sc, text, len, tag, plain, &ld->msg) < 0) {
		fail(ld, pos, "%s", ld->msg.buf);
		return -1;
	}
	return 0;
}

static json_t *float_value(struct yload *ld, double real, const char *text, size_t len, struct ypos pos)
{
	if (!isfinite(real)) {
		strbuf_reset(&ld->msg);
		yscalar_add_quoted(&ld->msg, text, len);
		fail(ld, pos, "%s is %s, which JSON cannot hold; quote it if it is text", ld->msg.buf,
		      isnan(real) ? "NaN (not a number)" : "infinite");
		return NULL;
	}
	/* Go's encoding/json writes an integral float64 as an integer, so Kubernetes sees one. */
	if (real >= -0x1p63 && real < 0x1p63 && (double)(json_int_t)real == real)
		return json_integer((json_int_t)real);
	return json_real(real);
}

/* The JSON value of a resolved scalar; NULL after reporting why there is none. */
static json_t *scalar_value(struct yload *ld, const struct yscalar *sc, const char *text, size_t len,
			    struct ypos pos)
{
	json_t *v = NULL;

	switch (sc->kind) {
	case YSCALAR_STR:
		v = json_stringn(text, len);
		if (!v)
			fail(ld, pos, "the string is not valid UTF-8");
		break;
	case YSCALAR_NULL:
		v = json_null();
		break;
	case YSCALAR_BOOL:
		v = json_boolean(sc->boolean);
		break;
	case YSCALAR_INT:
		v = json_integer(sc->integer);
		break;
	case YSCALAR_FLOAT:
		v = float_value(ld, sc->real, text, len, pos);
		break;
	}
	return v;
}

/* ---- building mappings and sequences ---- */

static void add_item(struct yload *ld, json_t *arr, json_t *v, struct ypos pos, const char *source)
{
	size_t i = json_array_size(arr);
	struct yentry *e;

	json_array_append_new(arr, v);
	e = table_get(&ld->doc->table, arr, NULL, i);
	e->m.value = pos;
	e->m.source = source;
}

static void set_member(struct yload *ld, struct yframe *f, json_t *v, struct ypos pos, const char *source)
{
	struct yentry *e = table_get(&ld->doc->table, f->node, f->key.name, 0);

	if (e->explicit_line) {
		strbuf_reset(&ld->msg);
		yscalar_add_quoted(&ld->msg, f->key.name, strlen(f->key.name));
		fail(ld, f->key.pos, "duplicate key %s (first at line %u)", ld->msg.buf, e->explicit_line);
		json_decref(v);
		return;
	}
	json_object_set_new_nocheck(f->node, f->key.name, v);
	e->explicit_line = f->key.pos.line;
	e->merged = 0;
	e->m.key = f->key.pos;
	e->m.value = pos;
	e->m.source = source;
	e->m.key_source = f->key.source;
}

/* One member of a mapping merged in with <<: later ones overwrite, in document order, as in go-yaml v2. */
static void merge_member(struct yload *ld, struct yframe *f, json_t *src, const char *key, json_t *v,
			 struct ypos merge_pos)
{
	const struct yentry *se = table_lookup(&ld->doc->table, src, key, 0);
	struct ymember m = se ? se->m : (struct ymember){ { 0, 0 }, { 0, 0 }, NULL, NULL };
	struct yentry *e = table_get(&ld->doc->table, f->node, se ? se->key : arena_copy(ld, key, strlen(key)), 0);

	if (e->explicit_line && !e->merged) {
		strbuf_reset(&ld->msg);
		yscalar_add_quoted(&ld->msg, key, strlen(key));
		report(ld, DIAG_WARNING, e->m.key,
		       "the merge (<<) at line %u replaces the value of key %s set here, because Kubernetes"
		       " applies << in order; put << before the keys that should override it",
		       merge_pos.line, ld->msg.buf);
	}
	json_object_set_nocheck(f->node, key, v);
	e->merged = 1;
	e->m = m;
}

static void merge_mapping(struct yload *ld, struct yframe *f, json_t *src, struct ypos merge_pos)
{
	const char *key;
	json_t *v;

	json_object_foreach(src, key, v)
		merge_member(ld, f, src, key, v, merge_pos);
}

/* The value of a << key: a mapping, or a list of them where earlier ones win (go-yaml v2 order). */
static void merge_value(struct yload *ld, struct yframe *f, json_t *v, struct ypos pos)
{
	const char *want = "must be a mapping, an alias of one, or a list of them";

	if (json_is_object(v)) {
		merge_mapping(ld, f, v, f->key.pos);
		return;
	}
	if (!json_is_array(v)) {
		fail(ld, pos, "the value of a merge key (<<) %s", want);
		return;
	}
	for (size_t i = json_array_size(v); i-- > 0;) {
		json_t *item = json_array_get(v, i);
		const struct yentry *e = table_lookup(&ld->doc->table, v, NULL, i);

		if (json_is_object(item))
			merge_mapping(ld, f, item, f->key.pos);
		else
			fail(ld, e ? e->m.value : pos, "an item of a merge key (<<) list %s", want);
	}
}

/* Give v (a reference) to the open mapping or sequence, or make it the document's root. */
static void attach(struct yload *ld, json_t *v, struct ypos pos, const char *source)
{
	struct yframe *f = top(ld);

	if (!v)
		v = json_null(); /* in place of a refused value: the error is reported */
	if (!f) {
		json_decref(ld->root);
		ld->root = v;
		ld->root_pos = pos;
		return;
	}
	if (!f->is_map) {
		add_item(ld, f->node, v, pos, source);
		return;
	}
	if (f->key.state == KEY_READY)
		set_member(ld, f, v, pos, source);
	else if (f->key.state == KEY_MERGE)
		merge_value(ld, f, v, pos);
	if (f->key.state != KEY_READY)
		json_decref(v);
	f->key.state = KEY_NONE;
}

static void skip_key(struct yload *ld, struct ypos pos)
{
	struct yframe *f = top(ld);

	f->key.state = KEY_SKIP;
	f->key.pos = pos;
}

/* sigs.k8s.io/yaml refuses null keys ("unsupported map key of type <nil>"). */
static void null_key(struct yload *ld, const char *text, size_t len, struct ypos pos)
{
	if (len) {
		strbuf_reset(&ld->msg);
		yscalar_add_quoted(&ld->msg, text, len);
		fail(ld, pos, "the key %s is null, and a mapping key must be a string; quote it if it is"
			      " text", ld->msg.buf);
	} else {
		fail(ld, pos, "a mapping key is empty, and a mapping key must be a string");
	}
	skip_key(ld, pos);
}

/* A resolved scalar as the pending key: converted to a string as sigs.k8s.io/yaml does. */
static void set_key(struct yload *ld, const struct yscalar *sc, const char *text, size_t len, struct ypos pos)
{
	struct yframe *f = top(ld);

	strbuf_reset(&ld->keybuf);
	if (yscalar_key(&ld->keybuf, sc, text, len) < 0) {
		null_key(ld, text, len, pos);
		return;
	}
	f->key.state = KEY_READY;
	f->key.pos = pos;
	f->key.name = arena_copy(ld, ld->keybuf.buf, ld->keybuf.len);
	f->key.source = NULL;
	if (sc->kind != YSCALAR_STR && (ld->keybuf.len != len || memcmp(ld->keybuf.buf, text, len)))
		f->key.source = arena_copy(ld, text, len);
}

static void refuse_complex_key(struct yload *ld, int is_map, struct ypos pos)
{
	fail(ld, pos, "a %s cannot be a mapping key: Kubernetes needs keys that are strings",
	      is_map ? "mapping" : "list");
	skip_key(ld, pos);
}

static int is_merge_key(const char *text, size_t len, const char *tag, int plain)
{
	if (len != 2 || memcmp(text, "<<", 2))
		return 0;
	return tag ? !strcmp(tag, "tag:yaml.org,2002:merge") : plain;
}

static void start_merge(struct yload *ld, struct ypos pos)
{
	struct yframe *f = top(ld);

	if (f->merge_pos.line) {
		fail(ld, pos, "duplicate key \"<<\" (first at line %u)", f->merge_pos.line);
		skip_key(ld, pos);
		return;
	}
	f->merge_pos = pos;
	f->key.state = KEY_MERGE;
	f->key.pos = pos;
}

static void anchor_scalar(struct yload *ld, const char *name, const struct yscalar *sc, const char *text,
			  size_t len, const char *source)
{
	struct yanchor *a = anchor_new(ld, name, ++ld->anchor_seq);

	a->size = 1;
	a->failed = !sc;
	if (sc)
		a->scalar = *sc;
	a->text = arena_copy(ld, text, len);
	a->len = len;
	a->source = source;
}

static int on_scalar(struct yload *ld, const yaml_event_t *ev)
{
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	struct ypos pos = mark_pos(ev->start_mark);
	struct yscalar sc;
	const char *source;
	int ok;

	if (count_nodes(ld, 1, pos, NULL) < 0)
		return -1;
	if (in_key_position(ld) && is_merge_key(text, len, tag, plain)) {
		start_merge(ld, pos);
		return 0;
	}
	ok = resolve(ld, &sc, text, len, tag, plain, pos) == 0;
	source = ok && sc.yaml11 ? arena_copy(ld, text, len) : NULL;
	if (anchor)
		anchor_scalar(ld, anchor, ok ? &sc : NULL, text, len, source);
	if (!in_key_position(ld))
		attach(ld, ok ? scalar_value(ld, &sc, text, len, pos) : NULL, pos, source);
	else if (ok)
		set_key(ld, &sc, text, len, pos);
	else
		skip_key(ld, pos);
	return 0;
}

static void check_collection_tag(struct yload *ld, const char *tag, int is_map, struct ypos pos)
{
	const char *std = is_map ? "tag:yaml.org,2002:map" : "tag:yaml.org,2002:seq";

	if (!tag || !strcmp(tag, "!") || !strcmp(tag, std))
		return;
	strbuf_reset(&ld->msg);
	yscalar_add_tag(&ld->msg, tag);
	fail(ld, pos, "the tag %s cannot be used on a %s; only %s is allowed there", ld->msg.buf,
	      is_map ? "mapping" : "list", is_map ? "!!map" : "!!seq");
}

static int on_open(struct yload *ld, const yaml_event_t *ev, int is_map)
{
	struct ypos pos = mark_pos(ev->start_mark);
	const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag);
	const char *anchor =
		(const char *)(is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor);
	struct yframe *f;

	if (check_depth(ld, 1, pos, NULL) < 0 || count_nodes(ld, 1, pos, NULL) < 0)
		return -1;
	check_collection_tag(ld, tag, is_map, pos);
	ALLOC_GROW(ld->stack, ld->depth + 1, ld->stack_alloc);
	f = &ld->stack[ld->depth];
	memset(f, 0, sizeof(*f));
	f->is_key = in_key_position(ld);
	f->node = is_map ? json_object() : json_array();
	f->is_map = is_map;
	f->pos = pos;
	f->anchor = anchor ? arena_copy(ld, anchor, strlen(anchor)) : NULL;
	f->anchor_seq = anchor ? ++ld->anchor_seq : 0;
	f->first = ld->nodes - 1;
	ld->depth++;
	ydoc_hold(ld->doc, f->node, pos);
	return 0;
}

static int on_close(struct yload *ld)
{
	struct yframe f = ld->stack[--ld->depth];
	struct yframe *parent = top(ld);
	unsigned height = f.height + 1;

	if (f.anchor) {
		struct yanchor *a = anchor_new(ld, f.anchor, f.anchor_seq);

		a->node = json_incref(f.node);
		a->size = ld->nodes - f.first;
		a->height = height;
	}
	if (parent && parent->height < height)
		parent->height = height;
	if (f.is_key) {
		refuse_complex_key(ld, f.is_map, f.pos);
		json_decref(f.node);
		return 0;
	}
	attach(ld, f.node, f.pos, NULL);
	return 0;
}

/* ---- aliases ---- */

static json_t *copy_node(struct yload *ld, json_t *src);

static json_t *copy_object(struct yload *ld, json_t *src)
{
	json_t *dst = json_object();
	const char *key;
	json_t *v;

	ydoc_hold(ld->doc, dst, ydoc_pos(ld->doc, src));
	json_object_foreach(src, key, v) {
		const struct yentry *se;
		struct yentry *e;

		json_object_set_new_nocheck(dst, key, copy_node(ld, v));
		se = table_lookup(&ld->doc->table, src, key, 0);
		e = table_get(&ld->doc->table, dst, se ? se->key : arena_copy(ld, key, strlen(key)), 0);
		/* table_get may move the entries: look se up again before reading it. */
		se = table_lookup(&ld->doc->table, src, key, 0);
		if (se)
			e->m = se->m;
	}
	return dst;
}

static json_t *copy_array(struct yload *ld, json_t *src)
{
	json_t *dst = json_array();
	size_t i;
	json_t *v;

	ydoc_hold(ld->doc, dst, ydoc_pos(ld->doc, src));
	json_array_foreach(src, i, v) {
		const struct yentry *se;
		struct yentry *e;

		json_array_append_new(dst, copy_node(ld, v));
		e = table_get(&ld->doc->table, dst, NULL, i);
		se = table_lookup(&ld->doc->table, src, NULL, i);
		if (se)
			e->m = se->m;
	}
	return dst;
}

/* A deep copy of src with the same positions; the caller counted its nodes. */
static json_t *copy_node(struct yload *ld, json_t *src)
{
	if (json_is_object(src))
		return copy_object(ld, src);
	if (json_is_array(src))
		return copy_array(ld, src);
	return json_copy(src);
}

/*
 * The node alias *name refers to: the last anchor &name before it. NULL after
 * reporting that there is none, or that it is still open (a node containing
 * itself, which go-yaml refuses too).
 */
static const struct yanchor *alias_target(struct yload *ld, const char *name, struct ypos pos)
{
	const struct yanchor *a = anchor_find(ld, name);

	for (size_t i = ld->depth; i-- > 0;) {
		const struct yframe *f = &ld->stack[i];

		if (!f->anchor || strcmp(f->anchor, name) || (a && a->seq > f->anchor_seq))
			continue;
		fail(ld, pos, "alias *%s is inside the node it refers to (&%s at line %u); YAML"
			      " cannot describe a structure that contains itself",
		     name, name, f->pos.line);
		return NULL;
	}
	if (!a)
		fail(ld, pos, "alias *%s has no anchor &%s before it in this document", name, name);
	return a;
}

static void alias_key(struct yload *ld, const struct yanchor *a, struct ypos pos)
{
	const char *text = a->text;
	size_t len = a->len;

	if (a->height) {
		refuse_complex_key(ld, json_is_object(a->node), pos);
		return;
	}
	if (a->failed) {
		skip_key(ld, pos);
		return;
	}
	set_key(ld, &a->scalar, text, len, pos);
}

static int on_alias(struct yload *ld, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ypos pos = mark_pos(ev->start_mark);
	const struct yanchor *a = alias_target(ld, name, pos);
	json_t *v;

	if (!a) {
		if (in_key_position(ld))
			skip_key(ld, pos);
		else
			attach(ld, NULL, pos, NULL);
		return count_nodes(ld, 1, pos, NULL);
	}
	if (count_alias(ld, name, a->size, pos) < 0 || check_depth(ld, a->height, pos, name) < 0)
		return -1;
	if (in_key_position(ld)) {
		alias_key(ld, a, pos);
		return 0;
	}
	if (a->node)
		v = copy_node(ld, a->node);
	else
		v = a->failed ? NULL : scalar_value(ld, &a->scalar, a->text, a->len, pos);
	attach(ld, v, pos, a->source);
	return 0;
}

/* ---- documents and the event loop ---- */

static void document_end(struct yload *ld)
{
	struct ydoc *doc = ld->doc;

	anchors_clear(ld);
	ld->doc_nodes = ld->doc_alias_nodes = ld->anchor_seq = 0;
	/* A document that is empty, only comments, or null is skipped, as kubectl does. */
	if (!ld->root || json_is_null(ld->root)) {
		json_decref(ld->root);
		ld->root = NULL;
		return;
	}
	ALLOC_GROW(doc->docs, doc->nr + 1, doc->alloc);
	doc->docs[doc->nr].root = ld->root; /* transferred */
	doc->docs[doc->nr].pos = ld->root_pos;
	doc->nr++;
	ld->root = NULL;
}

static int on_event(struct yload *ld, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_DOCUMENT_END_EVENT:
		document_end(ld);
		return 0;
	case YAML_SCALAR_EVENT:
		return on_scalar(ld, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(ld, ev, 0);
	case YAML_MAPPING_START_EVENT:
		return on_open(ld, ev, 1);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_close(ld);
	case YAML_ALIAS_EVENT:
		return on_alias(ld, ev);
	default:
		return 0;
	}
}

/* ---- input checks and syntax errors ---- */

/* Byte offset of the character at pos, counting line breaks as libyaml does. */
static size_t offset_of(const struct yload *ld, struct ypos pos)
{
	const unsigned char *s = (const unsigned char *)ld->buf;
	size_t i = 0;
	unsigned line = 1, col = 1;

	if (ld->len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < ld->len && (line < pos.line || (line == pos.line && col < pos.col))) {
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == ld->len || s[i + 1] != '\n'))) {
			line++;
			col = 1;
		} else if (s[i] != '\r' && (s[i] & 0xc0) != 0x80) {
			col++;
		}
		i++;
		while (i < ld->len && (s[i] & 0xc0) == 0x80)
			i++;
	}
	return i;
}

static const struct {
	const char *problem;
	const char *hint;
} syntax_hints[] = {
	{ "mapping values are not allowed in this context",
	  "a value that contains \": \" must be quoted, or a line above is missing its \":\"" },
	{ "did not find expected key", "check the indentation: keys of one mapping start in the same column" },
	{ "did not find expected '-' indicator", "check the indentation of the list items" },
	{ "block sequence entries are not allowed in this context",
	  "a list cannot start on the line of its key; put it on the next line" },
	{ "could not find expected ':'", "a key must be followed by \":\"" },
	{ "found unexpected end of stream", "a quoted string or a [...] or {...} is not closed" },
	{ "did not find expected ',' or ']'", "a [...] list is not closed, or an item is missing a comma" },
	{ "did not find expected ',' or '}'", "a {...} mapping is not closed, or a member is missing a comma" },
	{ "found a tab character that violates indentation", "indent with spaces, not tabs" },
};

static const char *syntax_hint(const struct yload *ld, const char *problem, struct ypos pos)
{
	size_t at;

	if (!strcmp(problem, "found character that cannot start any token")) {
		at = offset_of(ld, pos);
		if (at < ld->len && ld->buf[at] == '\t')
			return "indent with spaces: YAML does not allow tabs here";
		if (at < ld->len && (ld->buf[at] == '@' || ld->buf[at] == '`'))
			return "a value cannot start with @ or `; quote it";
		return "quote the value";
	}
	/* libyaml gives up on a simple key longer than 1024 characters, as the YAML spec allows. */
	if (!strcmp(problem, "mapping values are not allowed in this context") && pos.col > 1024)
		return "a key on one line is at most 1024 characters long";
	for (size_t i = 0; i < ARRAY_SIZE(syntax_hints); i++)
		if (!strcmp(problem, syntax_hints[i].problem))
			return syntax_hints[i].hint;
	return NULL;
}

static void syntax_error(struct yload *ld)
{
	const yaml_parser_t *p = &ld->parser;
	struct ypos pos = mark_pos(p->problem_mark), ctx = mark_pos(p->context_mark);
	const char *problem = p->problem ? p->problem : "cannot parse the file";
	const char *hint = syntax_hint(ld, problem, pos);
	struct strbuf sb = STRBUF_INIT;

	if (p->error == YAML_MEMORY_ERROR)
		die("out of memory parsing YAML");
	strbuf_addf(&sb, "YAML syntax error: %s", problem);
	if (p->context && (ctx.line != pos.line || ctx.col != pos.col))
		strbuf_addf(&sb, " (%s that starts at line %u, column %u)", p->context, ctx.line, ctx.col);
	if (hint)
		strbuf_addf(&sb, "; %s", hint);
	fail(ld, pos, "%s", sb.buf);
	strbuf_release(&sb);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), with its code point; 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* The characters YAML allows in a stream, as libyaml checks them. */
static int yaml_printable(uint32_t c)
{
	return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0x7e) || c == 0x85 ||
	       (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || c >= 0x10000;
}

static int is_break(uint32_t c)
{
	return c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Refuse what is not YAML text with a clear message: NUL, bad UTF-8, control characters. */
static int check_text(struct yload *ld)
{
	const unsigned char *s = (const unsigned char *)ld->buf;
	size_t i = 0, n = ld->len, len;
	struct ypos pos = { 1, 1 };
	uint32_t c;

	if (n >= 2 && ((s[0] == 0xfe && s[1] == 0xff) || (s[0] == 0xff && s[1] == 0xfe))) {
		fail(ld, pos, "the file is UTF-16 text; save it as UTF-8");
		return -1;
	}
	if (n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		i = 3;
	for (; i < n; i += len, pos.col++) {
		c = s[i];
		len = 1;
		if (c >= 0x20 && c < 0x7f)
			continue;
		if (c == '\n' || (c == '\r' && (i + 1 == n || s[i + 1] != '\n'))) {
			pos.line++;
			pos.col = 0;
			continue;
		}
		if (c == 0) {
			fail(ld, pos, "NUL byte: YAML files are text, and this looks like a binary file");
			return -1;
		}
		if (c >= 0x80 && !(len = utf8_decode(s + i, n - i, &c))) {
			fail(ld, pos, "invalid UTF-8 (byte 0x%02X); YAML files must be UTF-8 text", s[i]);
			return -1;
		}
		if (!yaml_printable(c)) {
			fail(ld, pos, "control character U+%04X is not allowed in YAML; remove it, or write it as"
				       " \\u%04X inside a double-quoted string", c, c);
			return -1;
		}
		if (is_break(c)) {
			pos.line++;
			pos.col = 0;
		}
	}
	return 0;
}

static int check_input(struct yload *ld)
{
	struct ypos whole = { 0, 0 };

	if (ld->len > ld->lim.max_bytes) {
		fail(ld, whole, "the file is %zu bytes, more than the limit of %zu (a Kubernetes object is at"
				 " most about 1.5 MB); split it into smaller files",
		      ld->len, ld->lim.max_bytes);
		return -1;
	}
	return check_text(ld);
}

static int parse(struct yload *ld)
{
	yaml_event_t ev;
	int rc = 0, done = 0;

	yaml_parser_set_input_string(&ld->parser, (const unsigned char *)ld->buf, ld->len);
	while (!rc && !done) {
		if (!yaml_parser_parse(&ld->parser, &ev)) {
			syntax_error(ld);
			return -1;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(ld, &ev);
		yaml_event_delete(&ev);
	}
	return rc;
}

static void yload_init(struct yload *ld, const char *file, const char *buf, size_t len,
		       const struct ylimits *lim, struct diags *d)
{
	memset(ld, 0, sizeof(*ld));
	ld->doc = ydoc_new(file);
	ld->d = d;
	ld->lim = *lim;
	if (ld->lim.max_depth > DEPTH_CAP)
		ld->lim.max_depth = DEPTH_CAP;
	if (ld->lim.max_nodes > NODES_CAP)
		ld->lim.max_nodes = NODES_CAP;
	ld->buf = len ? buf : ""; /* libyaml refuses a NULL string */
	ld->len = len;
	ld->anchor_index = json_object();
	strbuf_init(&ld->msg, 0);
	strbuf_init(&ld->keybuf, 0);
	if (!yaml_parser_initialize(&ld->parser))
		die("out of memory initializing the YAML parser");
}

static void yload_release(struct yload *ld)
{
	while (ld->depth)
		json_decref(ld->stack[--ld->depth].node);
	free(ld->stack);
	json_decref(ld->root);
	anchors_clear(ld);
	json_decref(ld->anchor_index);
	free(ld->anchors);
	strbuf_release(&ld->msg);
	strbuf_release(&ld->keybuf);
	yaml_parser_delete(&ld->parser);
	ydoc_free(ld->doc);
}

int ydoc_load(struct ydoc **out, const char *file, const char *buf, size_t len,
	      const struct ylimits *limits, struct diags *d)
{
	static const struct ylimits defaults = YLIMITS_DEFAULT;
	struct yload ld;
	int rc = -1;

	*out = NULL;
	yload_init(&ld, file, buf, len, limits ? limits : &defaults, d);
	if (check_input(&ld) == 0 && parse(&ld) == 0 && !ld.failed) {
		*out = ld.doc;
		ld.doc = NULL; /* transferred */
		rc = 0;
	}
	yload_release(&ld);
	return rc;
}
