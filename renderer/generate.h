/*
 * generate: the Kubernetes objects app.yaml stands for in one environment
 * (DESIGN.md "The app repo"):
 *
 *   Deployment APP   always: one container APP running the image, with
 *                    `replicas`, `env` (in app.yaml's order), `cpu` and
 *                    `memory` as both requests and limits, HTTP readiness
 *                    and liveness probes on `health` (port `http`), and a
 *                    restricted security context (runAsNonRoot, seccomp
 *                    RuntimeDefault, allowPrivilegeEscalation false, every
 *                    capability dropped); an overlay patch may change any
 *                    of it;
 *   Service APP      when `port` is set: port 80, named http, to the
 *                    container port named http;
 *   Ingress APP      when `host` is set: every path of the host to the
 *                    Service's http port.
 *
 * validate_app.c's register_generated() lists the same objects for its
 * duplicate and patch-target checks: change both together.
 *
 * The settings that apply in environment ENV are app.yaml's top level with
 * environments.ENV laid over it: each key set there replaces the top-level
 * one, except `env`, merged name by name (new names after the others), and
 * `image` / `build`, where setting one drops the other.
 *
 * Every object carries app.kubernetes.io/name: APP, .../instance: INSTANCE
 * and .../managed-by: gitd; selectors use name and instance only, so they
 * never change between renders (Kubernetes refuses to change a Deployment's
 * selector). gitd uses the namespace as the instance: unique per app and
 * environment, a valid label value, and the name of the ArgoCD Application.
 *
 * The input is expected to have passed validate_app(); a value of the wrong
 * type is still refused with a message rather than rendered.
 */
#ifndef GITD_GENERATE_H
#define GITD_GENERATE_H

#include <jansson.h>

#include "strbuf.h"

/* The value of app.kubernetes.io/managed-by. */
#define GENERATE_MANAGED_BY "gitd"

struct generate_in {
	const json_t *app_yaml; /* app.yaml's root mapping */
	const char *app;        /* the app's name (app.yaml's `name` or the repo's) */
	const char *env;        /* the environment */
	const char *instance;   /* app.kubernetes.io/instance: the namespace */
	/*
	 * The image the build step pushed (REGISTRY/APP@sha256:...), for an app
	 * that builds in env; NULL when none was built. Unused for an app that
	 * runs `image:`.
	 */
	const char *built_image;
};

/* generate_objects() result when the app builds its image and built_image is NULL. */
#define GENERATE_NO_IMAGE (-2)

/*
 * The settings of app_yaml that apply in env (see above), without
 * `environments`: a new object.
 */
json_t *generate_settings(const json_t *app_yaml, const char *env);

/* The Dockerfile the app builds in env (borrowed from app_yaml), or NULL when it runs `image:`. */
const char *generate_build_file(const json_t *app_yaml, const char *env);

/*
 * Generate the objects of in into *out: a new array, Deployment first,
 * then Service and Ingress when they apply, without namespaces. Returns 0;
 * GENERATE_NO_IMAGE ("no image built yet") or -1 with a message in err,
 * and *out NULL.
 */
int generate_objects(json_t **out, const struct generate_in *in, struct strbuf *err);

#endif
