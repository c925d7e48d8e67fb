/*
 * Strategic merge patches. The expectations in agreement[] were produced by
 * `kubectl kustomize` (kustomize v5.5) on the same object and patch (the
 * object written as YAML, a patch with no target), so each case pins one
 * kustomize behaviour. JSON is written with ' for " to stay readable.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../../renderer/smp.h"
#include "strbuf.h"
#include "util.h"
#include "unit.h"
#include "banned.h"

static json_t *load(const char *squoted)
{
	char *s = xstrdup(squoted);
	json_error_t e;
	json_t *v;

	for (char *c = s; *c; c++)
		if (*c == '\'')
			*c = '"';
	v = json_loads(s, 0, &e);
	if (!v)
		ck_abort_msg("bad test JSON: %s: %s", e.text, squoted);
	free(s);
	return v;
}

static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	for (char *c = s; *c; c++)
		if (*c == '"')
			*c = '\'';
	return s;
}

static const struct {
	const char *name, *object, *patch, *want; /* want NULL: the object is deleted */
} agreement[] = {
	{ "maps_merge_and_null_deletes",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'labels':{'a':'1','b':'2'},'name':'web'},'spec':{'replicas':1,'strategy':{'type':'Recreate'}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'labels':{'a':null,'c':'3'},'name':'web'},'spec':{'replicas':3,'strategy':null}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'labels':{'b':'2','c':'3'},'name':'web'},'spec':{'replicas':3}}" },
	{ "new_map_drops_its_nulls",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'metadata':{'annotations':{'a':null,'b':'x'}}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'metadata':{'annotations':{'b':'x'}}}}}" },
	{ "containers_merge_by_name_patch_first",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'a:1','name':'app'},{'image':'s','name':'side'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'s:2','name':'side'},{'image':'n','name':'new'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'s:2','name':'side'},{'image':'n','name':'new'},{'image':'a:1','name':'app'}]}}}}" },
	{ "env_merge_and_element_delete",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'A','value':'1'},{'name':'B','value':'2'},{'name':'C','value':'3'}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'$patch':'delete','name':'B'},{'name':'C','value':'33'},{'name':'D','value':'4'}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'C','value':'33'},{'name':'D','value':'4'},{'name':'A','value':'1'}],'name':'app'}]}}}}" },
	{ "list_without_merge_key_is_replaced",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'args':['x','y'],'name':'app'}],'tolerations':[{'key':'a'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'args':['z'],'name':'app'}],'tolerations':[{'key':'b'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'args':['z'],'name':'app'}],'tolerations':[{'key':'b'}]}}}}" },
	{ "list_patch_replace",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'A','value':'1'},{'name':'B','value':'2'}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'Q','value':'q'},{'$patch':'replace'}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'Q','value':'q'}],'name':'app'}]}}}}" },
	{ "list_patch_delete",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'A','value':'1'}],'image':'i','name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'$patch':'delete'}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'i','name':'app'}]}}}}" },
	{ "map_patch_replace_and_delete",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'selector':{'matchLabels':{'a':'b'}},'strategy':{'rollingUpdate':{'maxSurge':1},'type':'RollingUpdate'},'template':{'spec':{'containers':[{'name':'app','resources':{'limits':{'cpu':'1','memory':'1Gi'}}}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'selector':{'$patch':'delete'},'strategy':{'$patch':'replace','type':'Recreate'},'template':{'spec':{'containers':[{'name':'app','resources':{'limits':{'$patch':'replace','cpu':'2'}}}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'strategy':{'type':'Recreate'},'template':{'spec':{'containers':[{'name':'app','resources':{'limits':{'cpu':'2'}}}]}}}}" },
	{ "object_patch_delete",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'replicas':1}}",
	  "{'$patch':'delete','apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'}}",
	  NULL },
	{ "finalizers_merge_as_set",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'finalizers':['f1','f0'],'name':'web'},'spec':{}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'finalizers':['f2','f0'],'name':'web'}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'finalizers':['f2','f0','f1'],'name':'web'},'spec':{}}" },
	{ "volumes_mounts_pullsecrets_hostaliases",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','volumeMounts':[{'mountPath':'/a','name':'v1'}]}],'hostAliases':[{'hostnames':['a'],'ip':'1.1.1.1'}],'imagePullSecrets':[{'name':'s1'}],'volumes':[{'emptyDir':{},'name':'v1'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','volumeMounts':[{'mountPath':'/b','name':'v2'},{'mountPath':'/a','name':'v1','readOnly':true}]}],'hostAliases':[{'hostnames':['b'],'ip':'1.1.1.1'}],'imagePullSecrets':[{'name':'s2'}],'volumes':[{'name':'v2','secret':{'secretName':'x'}}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','volumeMounts':[{'mountPath':'/b','name':'v2'},{'mountPath':'/a','name':'v1','readOnly':true}]}],'hostAliases':[{'hostnames':['b'],'ip':'1.1.1.1'}],'imagePullSecrets':[{'name':'s2'},{'name':'s1'}],'volumes':[{'name':'v2','secret':{'secretName':'x'}},{'emptyDir':{},'name':'v1'}]}}}}" },
	{ "ports_two_keys_keep_object_order",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','ports':[{'containerPort':1,'name':'a','protocol':'TCP'},{'containerPort':2,'name':'b','protocol':'UDP'}]}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','ports':[{'containerPort':2,'name':'c','protocol':'UDP'},{'containerPort':3,'name':'d','protocol':'TCP'}]}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','ports':[{'containerPort':3,'name':'d','protocol':'TCP'},{'containerPort':1,'name':'a','protocol':'TCP'},{'containerPort':2,'name':'c','protocol':'UDP'}]}]}}}}" },
	{ "ports_missing_protocol_quirk",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','ports':[{'containerPort':1,'name':'a'},{'containerPort':80}]}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','ports':[{'containerPort':80,'name':'h','protocol':'TCP'}]}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'name':'app','ports':[{'containerPort':1,'name':'a'},{'containerPort':80}]}]}}}}" },
	{ "service_ports",
	  "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web'},'spec':{'ports':[{'name':'a','port':53,'protocol':'TCP'},{'name':'b','port':53,'protocol':'UDP'}]}}",
	  "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web'},'spec':{'ports':[{'name':'c','port':53,'protocol':'UDP'}]}}",
	  "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web'},'spec':{'ports':[{'name':'a','port':53,'protocol':'TCP'},{'name':'c','port':53,'protocol':'UDP'}]}}" },
	{ "custom_resource_lists_replace",
	  "{'apiVersion':'example.com/v1','kind':'Foo','metadata':{'finalizers':['f1'],'name':'web'},'spec':{'items':[{'name':'a','v':1},{'name':'b','v':2}],'m':{'x':1}}}",
	  "{'apiVersion':'example.com/v1','kind':'Foo','metadata':{'finalizers':['f2'],'name':'web'},'spec':{'items':[{'name':'b','w':3}],'m':{'y':2}}}",
	  "{'apiVersion':'example.com/v1','kind':'Foo','metadata':{'finalizers':['f2'],'name':'web'},'spec':{'items':[{'name':'b','w':3}],'m':{'x':1,'y':2}}}" },
	{ "old_api_version_has_no_schema",
	  "{'apiVersion':'extensions/v1beta1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'a','name':'a'}]}}}}",
	  "{'apiVersion':'extensions/v1beta1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'b','name':'b'}]}}}}",
	  "{'apiVersion':'extensions/v1beta1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'image':'b','name':'b'}]}}}}" },
	{ "nested_object_brings_its_schema",
	  "{'apiVersion':'example.com/v1','kind':'Wrapper','metadata':{'name':'web'},'spec':{'inner':{'apiVersion':'v1','kind':'Pod','spec':{'containers':[{'image':'a','name':'a'}]}}}}",
	  "{'apiVersion':'example.com/v1','kind':'Wrapper','metadata':{'name':'web'},'spec':{'inner':{'spec':{'containers':[{'image':'b','name':'b'}]}}}}",
	  "{'apiVersion':'example.com/v1','kind':'Wrapper','metadata':{'name':'web'},'spec':{'inner':{'apiVersion':'v1','kind':'Pod','spec':{'containers':[{'image':'b','name':'b'},{'image':'a','name':'a'}]}}}}" },
	{ "untouched_nulls_stay",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'paused':true,'replicas':null}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'paused':false}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'paused':false,'replicas':null}}" },
	{ "quoted_string_keeps_quotes",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'PORT','value':'8080'}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'PORT','value':9090}],'name':'app'}]}}}}",
	  "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{'template':{'spec':{'containers':[{'env':[{'name':'PORT','value':'9090'}],'name':'app'}]}}}}" },

};

START_TEST(agrees_with_kustomize)
{
	json_t *obj = load(agreement[_i].object), *patch = load(agreement[_i].patch);
	struct strbuf err = STRBUF_INIT;
	int ret = smp_apply(&obj, patch, &err);

	ck_assert_msg(ret >= 0, "%s: %s", agreement[_i].name, err.buf);
	if (!agreement[_i].want) {
		ck_assert_int_eq(ret, SMP_DELETED);
		ck_assert_ptr_null(obj);
	} else {
		char *got = dump(obj);

		ck_assert_int_eq(ret, SMP_MERGED);
		ck_assert_msg(!strcmp(got, agreement[_i].want), "%s:\n got %s\nwant %s",
			      agreement[_i].name, got, agreement[_i].want);
		free(got);
	}
	json_decref(obj);
	json_decref(patch);
	strbuf_release(&err);
}
END_TEST

/* The patch must not be modified: kustomize applies one patch to many objects. */
START_TEST(patch_is_not_modified)
{
	json_t *obj = load("{'kind':'ConfigMap','apiVersion':'v1','data':{'a':'1'}}");
	json_t *patch = load("{'data':{'$patch':'replace','b':null,'c':'3'}}");
	struct strbuf err = STRBUF_INIT;
	char *before = dump(patch), *after, *got;

	ck_assert_int_eq(smp_apply(&obj, patch, &err), SMP_MERGED);
	after = dump(patch);
	got = dump(obj);
	ck_assert_str_eq(before, after);
	ck_assert_str_eq(got, "{'apiVersion':'v1','data':{'c':'3'},'kind':'ConfigMap'}");
	free(before);
	free(after);
	free(got);
	json_decref(obj);
	json_decref(patch);
	strbuf_release(&err);
}
END_TEST

static void check_error(const char *object, const char *patch, const char *want)
{
	json_t *obj = load(object), *p = load(patch);
	struct strbuf err = STRBUF_INIT;

	ck_assert_int_eq(smp_apply(&obj, p, &err), -1);
	ck_assert_str_eq(err.buf, want);
	json_decref(obj);
	json_decref(p);
	strbuf_release(&err);
}

START_TEST(errors)
{
	check_error("{'kind':'ConfigMap','apiVersion':'v1','data':{'a':'1'}}",
		    "{'data':['x']}", "at data: the patch has a list where the object has a map");
	check_error("{'kind':'ConfigMap','apiVersion':'v1','metadata':{'name':'a'}}",
		    "{'metadata':{'$patch':'bogus'}}",
		    "at metadata: unknown \"$patch: bogus\": use merge, replace or delete");
	check_error("{'kind':'Deployment','apiVersion':'apps/v1','spec':{'template':{'spec':"
		    "{'containers':[{'name':'a','env':[{'name':'X'}]}]}}}}",
		    "{'spec':{'template':{'spec':{'containers':[{'name':'a','env':[{'$patch':'nope'}]}]}}}}",
		    "at spec.template.spec.containers[name=a].env: unknown \"$patch: nope\": use merge, "
		    "replace or delete");
	check_error("{'kind':'ConfigMap','apiVersion':'v1'}", "[]",
		    "a strategic merge patch and its target must be mappings");
}
END_TEST

/* Directives kustomize copies verbatim into its output are refused. */
START_TEST(unapplied_directives_are_refused)
{
	check_error("{'kind':'Deployment','apiVersion':'apps/v1','spec':{'template':{'spec':"
		    "{'containers':[{'name':'a'}]}}}}",
		    "{'spec':{'template':{'spec':{'$setElementOrder/containers':[{'name':'a'}]}}}}",
		    "at spec.template.spec.$setElementOrder/containers: kustomize does not apply "
		    "\"$setElementOrder/containers\" here and would copy it into the output; remove it");
	check_error("{'kind':'Deployment','apiVersion':'apps/v1','spec':{'strategy':{'type':'A'}}}",
		    "{'spec':{'strategy':{'$retainKeys':['type'],'type':'B'}}}",
		    "at spec.strategy.$retainKeys: kustomize does not apply \"$retainKeys\" here and "
		    "would copy it into the output; remove it");
	/* a custom resource's lists are replaced, so element directives stay */
	check_error("{'kind':'Foo','apiVersion':'example.com/v1','spec':{'items':[{'name':'a'}]}}",
		    "{'spec':{'items':[{'name':'a','$patch':'delete'}]}}",
		    "at spec.items.$patch: kustomize does not apply \"$patch\" here and would copy it "
		    "into the output; remove it");
}
END_TEST

/* Merging lists is quadratic (in kustomize too): very long ones are refused. */
START_TEST(long_lists_are_refused)
{
	json_t *obj = load("{'kind':'Pod','apiVersion':'v1','spec':{'containers':[]}}");
	json_t *patch = load("{'spec':{'containers':[]}}");
	json_t *list = json_object_get(json_object_get(patch, "spec"), "containers");
	struct strbuf err = STRBUF_INIT;

	for (int i = 0; i <= 10000; i++)
		json_array_append_new(list, json_pack("{s:i}", "name", i));
	ck_assert_int_eq(smp_apply(&obj, patch, &err), -1);
	ck_assert_str_eq(err.buf, "at spec.containers: a list of more than 10000 elements is too "
				  "long to merge");
	json_decref(obj);
	json_decref(patch);
	strbuf_release(&err);
}
END_TEST

START_TEST(schema_lookup)
{
	ck_assert_int_eq(smp_has_schema("apps/v1", "Deployment"), 1);
	ck_assert_int_eq(smp_has_schema("v1", "ConfigMap"), 1);
	ck_assert_int_eq(smp_has_schema("apps/v1beta1", "Deployment"), 0);
	ck_assert_int_eq(smp_has_schema("example.com/v1", "Deployment"), 0);
	ck_assert_int_eq(smp_has_schema(NULL, "Pod"), 0);
}
END_TEST

static Suite *smp_suite(void)
{
	Suite *s = suite_create("smp");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, agrees_with_kustomize, 0, (int)ARRAY_SIZE(agreement));
	tcase_add_test(tc, patch_is_not_modified);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, unapplied_directives_are_refused);
	tcase_add_test(tc, long_lists_are_refused);
	tcase_add_test(tc, schema_lookup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(smp_suite());
}
