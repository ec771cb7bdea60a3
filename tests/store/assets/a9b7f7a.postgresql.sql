--
-- PostgreSQL database dump
--

\restrict I7By27jXhOnWgGFKEBYU1WTsmikus26kk4RnfsAqRqN1cvK0t6K23sGTbuRnCqz

-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: studydirection; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.studydirection AS ENUM (
    'NOT_SET',
    'MINIMIZE',
    'MAXIMIZE'
);


--
-- Name: trialintermediatevaluetype; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.trialintermediatevaluetype AS ENUM (
    'FINITE',
    'INF_POS',
    'INF_NEG',
    'NAN'
);


--
-- Name: trialstate; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.trialstate AS ENUM (
    'RUNNING',
    'COMPLETE',
    'PRUNED',
    'FAIL',
    'WAITING'
);


--
-- Name: trialvaluetype; Type: TYPE; Schema: public; Owner: -
--

CREATE TYPE public.trialvaluetype AS ENUM (
    'FINITE',
    'INF_POS',
    'INF_NEG'
);


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: schedsearch_meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schedsearch_meta (
    key character varying(64) NOT NULL,
    value character varying(255) NOT NULL
);


--
-- Name: schedsearch_studies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schedsearch_studies (
    id integer NOT NULL,
    name character varying(128) NOT NULL,
    optuna_study_id integer NOT NULL,
    status character varying(16) NOT NULL,
    spec json NOT NULL,
    n_trials integer NOT NULL,
    claimed integer NOT NULL,
    failures integer NOT NULL,
    error text,
    best_value double precision,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    parent_id integer
);


--
-- Name: schedsearch_studies_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.schedsearch_studies_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: schedsearch_studies_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.schedsearch_studies_id_seq OWNED BY public.schedsearch_studies.id;


--
-- Name: schedsearch_workers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schedsearch_workers (
    id character varying(64) NOT NULL,
    host character varying(255) NOT NULL,
    pid integer NOT NULL,
    device character varying(32) NOT NULL,
    study_id integer,
    trial_number integer,
    started_at timestamp with time zone NOT NULL,
    last_seen timestamp with time zone NOT NULL
);


--
-- Name: studies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.studies (
    study_id integer NOT NULL,
    study_name character varying(512) NOT NULL
);


--
-- Name: studies_study_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.studies_study_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: studies_study_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.studies_study_id_seq OWNED BY public.studies.study_id;


--
-- Name: study_directions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.study_directions (
    study_direction_id integer NOT NULL,
    direction public.studydirection NOT NULL,
    study_id integer NOT NULL,
    objective integer NOT NULL
);


--
-- Name: study_directions_study_direction_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.study_directions_study_direction_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: study_directions_study_direction_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.study_directions_study_direction_id_seq OWNED BY public.study_directions.study_direction_id;


--
-- Name: study_system_attributes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.study_system_attributes (
    study_system_attribute_id integer NOT NULL,
    study_id integer,
    key character varying(512),
    value_json text
);


--
-- Name: study_system_attributes_study_system_attribute_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.study_system_attributes_study_system_attribute_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: study_system_attributes_study_system_attribute_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.study_system_attributes_study_system_attribute_id_seq OWNED BY public.study_system_attributes.study_system_attribute_id;


--
-- Name: study_user_attributes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.study_user_attributes (
    study_user_attribute_id integer NOT NULL,
    study_id integer,
    key character varying(512),
    value_json text
);


--
-- Name: study_user_attributes_study_user_attribute_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.study_user_attributes_study_user_attribute_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: study_user_attributes_study_user_attribute_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.study_user_attributes_study_user_attribute_id_seq OWNED BY public.study_user_attributes.study_user_attribute_id;


--
-- Name: trial_heartbeats; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trial_heartbeats (
    trial_heartbeat_id integer NOT NULL,
    trial_id integer NOT NULL,
    heartbeat timestamp without time zone NOT NULL
);


--
-- Name: trial_heartbeats_trial_heartbeat_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trial_heartbeats_trial_heartbeat_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trial_heartbeats_trial_heartbeat_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trial_heartbeats_trial_heartbeat_id_seq OWNED BY public.trial_heartbeats.trial_heartbeat_id;


--
-- Name: trial_intermediate_values; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trial_intermediate_values (
    trial_intermediate_value_id integer NOT NULL,
    trial_id integer NOT NULL,
    step integer NOT NULL,
    intermediate_value double precision,
    intermediate_value_type public.trialintermediatevaluetype NOT NULL
);


--
-- Name: trial_intermediate_values_trial_intermediate_value_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trial_intermediate_values_trial_intermediate_value_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trial_intermediate_values_trial_intermediate_value_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trial_intermediate_values_trial_intermediate_value_id_seq OWNED BY public.trial_intermediate_values.trial_intermediate_value_id;


--
-- Name: trial_params; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trial_params (
    param_id integer NOT NULL,
    trial_id integer,
    param_name character varying(512),
    param_value double precision,
    distribution_json text
);


--
-- Name: trial_params_param_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trial_params_param_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trial_params_param_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trial_params_param_id_seq OWNED BY public.trial_params.param_id;


--
-- Name: trial_system_attributes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trial_system_attributes (
    trial_system_attribute_id integer NOT NULL,
    trial_id integer,
    key character varying(512),
    value_json text
);


--
-- Name: trial_system_attributes_trial_system_attribute_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trial_system_attributes_trial_system_attribute_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trial_system_attributes_trial_system_attribute_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trial_system_attributes_trial_system_attribute_id_seq OWNED BY public.trial_system_attributes.trial_system_attribute_id;


--
-- Name: trial_user_attributes; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trial_user_attributes (
    trial_user_attribute_id integer NOT NULL,
    trial_id integer,
    key character varying(512),
    value_json text
);


--
-- Name: trial_user_attributes_trial_user_attribute_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trial_user_attributes_trial_user_attribute_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trial_user_attributes_trial_user_attribute_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trial_user_attributes_trial_user_attribute_id_seq OWNED BY public.trial_user_attributes.trial_user_attribute_id;


--
-- Name: trial_values; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trial_values (
    trial_value_id integer NOT NULL,
    trial_id integer NOT NULL,
    objective integer NOT NULL,
    value double precision,
    value_type public.trialvaluetype NOT NULL
);


--
-- Name: trial_values_trial_value_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trial_values_trial_value_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trial_values_trial_value_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trial_values_trial_value_id_seq OWNED BY public.trial_values.trial_value_id;


--
-- Name: trials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.trials (
    trial_id integer NOT NULL,
    number integer,
    study_id integer,
    state public.trialstate NOT NULL,
    datetime_start timestamp without time zone,
    datetime_complete timestamp without time zone
);


--
-- Name: trials_trial_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.trials_trial_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: trials_trial_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.trials_trial_id_seq OWNED BY public.trials.trial_id;


--
-- Name: version_info; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.version_info (
    version_info_id integer NOT NULL,
    schema_version integer,
    library_version character varying(256),
    CONSTRAINT version_info_version_info_id_check CHECK ((version_info_id = 1))
);


--
-- Name: schedsearch_studies id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedsearch_studies ALTER COLUMN id SET DEFAULT nextval('public.schedsearch_studies_id_seq'::regclass);


--
-- Name: studies study_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studies ALTER COLUMN study_id SET DEFAULT nextval('public.studies_study_id_seq'::regclass);


--
-- Name: study_directions study_direction_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_directions ALTER COLUMN study_direction_id SET DEFAULT nextval('public.study_directions_study_direction_id_seq'::regclass);


--
-- Name: study_system_attributes study_system_attribute_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_system_attributes ALTER COLUMN study_system_attribute_id SET DEFAULT nextval('public.study_system_attributes_study_system_attribute_id_seq'::regclass);


--
-- Name: study_user_attributes study_user_attribute_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_user_attributes ALTER COLUMN study_user_attribute_id SET DEFAULT nextval('public.study_user_attributes_study_user_attribute_id_seq'::regclass);


--
-- Name: trial_heartbeats trial_heartbeat_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_heartbeats ALTER COLUMN trial_heartbeat_id SET DEFAULT nextval('public.trial_heartbeats_trial_heartbeat_id_seq'::regclass);


--
-- Name: trial_intermediate_values trial_intermediate_value_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_intermediate_values ALTER COLUMN trial_intermediate_value_id SET DEFAULT nextval('public.trial_intermediate_values_trial_intermediate_value_id_seq'::regclass);


--
-- Name: trial_params param_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_params ALTER COLUMN param_id SET DEFAULT nextval('public.trial_params_param_id_seq'::regclass);


--
-- Name: trial_system_attributes trial_system_attribute_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_system_attributes ALTER COLUMN trial_system_attribute_id SET DEFAULT nextval('public.trial_system_attributes_trial_system_attribute_id_seq'::regclass);


--
-- Name: trial_user_attributes trial_user_attribute_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_user_attributes ALTER COLUMN trial_user_attribute_id SET DEFAULT nextval('public.trial_user_attributes_trial_user_attribute_id_seq'::regclass);


--
-- Name: trial_values trial_value_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_values ALTER COLUMN trial_value_id SET DEFAULT nextval('public.trial_values_trial_value_id_seq'::regclass);


--
-- Name: trials trial_id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trials ALTER COLUMN trial_id SET DEFAULT nextval('public.trials_trial_id_seq'::regclass);


--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.alembic_version (version_num) FROM stdin;
v3.2.0.a
\.


--
-- Data for Name: schedsearch_meta; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schedsearch_meta (key, value) FROM stdin;
schema_version	2
\.


--
-- Data for Name: schedsearch_studies; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schedsearch_studies (id, name, optuna_study_id, status, spec, n_trials, claimed, failures, error, best_value, created_at, updated_at, parent_id) FROM stdin;
3	rerun.rerun-2	3	completed	{"name": "rerun.rerun-2", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 2, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "none", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 2}	2	2	0	\N	0.5376044568245125	2026-11-30 05:24:50.523843+00	2026-11-30 05:24:50.994976+00	2
2	rerun	2	completed	{"name": "rerun", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 4, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 1, "rerun_seeds": 2}	4	4	0	\N	0.584958217270195	2026-11-30 05:24:49.551002+00	2026-11-30 05:24:50.997345+00	\N
1	done	1	completed	{"name": "done", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 5, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 3}	5	5	0	\N	0.584958217270195	2026-11-30 05:24:47.03336+00	2026-11-30 05:24:49.457713+00	\N
4	warm	4	completed	{"name": "warm", "dataset": "digits", "model": "cnn-small", "epochs": 1, "n_trials": 3, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": null, "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": true, "rerun_top_k": 0, "rerun_seeds": 3}	3	3	0	\N	0.23119777158774374	2026-11-30 05:24:51.128367+00	2026-11-30 05:24:51.559501+00	\N
5	cancelled	5	cancelled	{"name": "cancelled", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 5, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 3}	5	0	0	\N	\N	2026-11-30 05:24:51.684073+00	2026-11-30 05:24:51.693813+00	\N
6	waiting	6	queued	{"name": "waiting", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 5, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 3}	5	0	0	\N	\N	2026-11-30 05:24:51.710753+00	2026-11-30 05:24:51.710753+00	\N
\.


--
-- Data for Name: schedsearch_workers; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.schedsearch_workers (id, host, pid, device, study_id, trial_number, started_at, last_seen) FROM stdin;
\.


--
-- Data for Name: studies; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.studies (study_id, study_name) FROM stdin;
1	done
2	rerun
3	rerun.rerun-2
4	warm
5	cancelled
6	waiting
\.


--
-- Data for Name: study_directions; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.study_directions (study_direction_id, direction, study_id, objective) FROM stdin;
1	MAXIMIZE	1	0
2	MAXIMIZE	2	0
3	MAXIMIZE	3	0
4	MAXIMIZE	4	0
5	MAXIMIZE	5	0
6	MAXIMIZE	6	0
\.


--
-- Data for Name: study_system_attributes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.study_system_attributes (study_system_attribute_id, study_id, key, value_json) FROM stdin;
\.


--
-- Data for Name: study_user_attributes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.study_user_attributes (study_user_attribute_id, study_id, key, value_json) FROM stdin;
1	1	spec	{"name": "done", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 5, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 3}
2	2	spec	{"name": "rerun", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 4, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 1, "rerun_seeds": 2}
3	3	spec	{"name": "rerun.rerun-2", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 2, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "none", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 2}
4	4	spec	{"name": "warm", "dataset": "digits", "model": "cnn-small", "epochs": 1, "n_trials": 3, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": null, "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": true, "rerun_top_k": 0, "rerun_seeds": 3}
5	5	spec	{"name": "cancelled", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 5, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 3}
6	6	spec	{"name": "waiting", "dataset": "digits", "model": "cnn-small", "epochs": 2, "n_trials": 5, "batch_size": 64, "optimizer": "sgd", "weight_decay": 0.0005, "augment": true, "families": ["cosine", "step", "one_cycle"], "space": {}, "pruner": "hyperband", "sampler": "tpe", "seed": 0, "warm_start": false, "rerun_top_k": 0, "rerun_seeds": 3}
\.


--
-- Data for Name: trial_heartbeats; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trial_heartbeats (trial_heartbeat_id, trial_id, heartbeat) FROM stdin;
1	1	2026-11-30 05:24:47.096495
2	2	2026-11-30 05:24:48.808761
3	3	2026-11-30 05:24:48.983106
4	4	2026-11-30 05:24:49.160071
5	5	2026-11-30 05:24:49.303957
6	6	2026-11-30 05:24:49.610207
7	7	2026-11-30 05:24:49.89625
8	8	2026-11-30 05:24:50.09148
9	9	2026-11-30 05:24:50.300392
10	10	2026-11-30 05:24:50.581737
11	11	2026-11-30 05:24:50.820063
12	12	2026-11-30 05:24:51.176841
13	13	2026-11-30 05:24:51.30653
14	14	2026-11-30 05:24:51.436717
\.


--
-- Data for Name: trial_intermediate_values; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trial_intermediate_values (trial_intermediate_value_id, trial_id, step, intermediate_value, intermediate_value_type) FROM stdin;
1	1	1	0.3816155988857939	FINITE
2	1	2	0.584958217270195	FINITE
3	2	1	0.3649025069637883	FINITE
4	3	1	0.16991643454038996	FINITE
5	4	1	0.23119777158774374	FINITE
6	5	1	0.17270194986072424	FINITE
7	6	1	0.3816155988857939	FINITE
8	6	2	0.584958217270195	FINITE
9	7	1	0.3649025069637883	FINITE
10	8	1	0.16991643454038996	FINITE
11	9	1	0.23119777158774374	FINITE
12	10	1	0.4986072423398329	FINITE
13	10	2	0.520891364902507	FINITE
14	11	1	0.25069637883008355	FINITE
15	11	2	0.5376044568245125	FINITE
16	12	1	0.20891364902506965	FINITE
17	13	1	0.181058495821727	FINITE
18	14	1	0.23119777158774374	FINITE
\.


--
-- Data for Name: trial_params; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trial_params (param_id, trial_id, param_name, param_value, distribution_json) FROM stdin;
1	1	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
2	1	base_lr	0.1229607110732571	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
3	1	step.warmup	0.042365479933890476	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
4	1	step.step_size	0.3760629395733296	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
5	1	step.gamma	0.13694847976173485	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
6	2	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
7	2	base_lr	0.3832216850492786	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
8	2	step.warmup	0.05288949197529045	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
9	2	step.step_size	0.3488155963828763	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
10	2	step.gamma	0.42127592672160546	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
11	3	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
12	3	base_lr	0.46263628414755864	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
13	3	step.warmup	0.07781567509498505	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
14	3	step.step_size	0.45450425188638666	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
15	3	step.gamma	0.47597960752699126	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
16	4	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
17	4	base_lr	0.031177233573822728	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
18	4	step.warmup	0.0021865336391761123	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
19	4	step.step_size	0.41174233105129077	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
20	4	step.gamma	0.0995690702328544	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
21	5	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
22	5	base_lr	0.08903835857629688	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
23	5	step.warmup	0.08393691380047699	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
24	5	step.step_size	0.18941515972552692	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
25	5	step.gamma	0.08349032056091678	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
26	6	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
27	6	base_lr	0.1229607110732571	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
28	6	step.warmup	0.042365479933890476	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
29	6	step.step_size	0.3760629395733296	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
30	6	step.gamma	0.13694847976173485	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
31	7	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
32	7	base_lr	0.3832216850492786	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
33	7	step.warmup	0.05288949197529045	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
34	7	step.step_size	0.3488155963828763	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
35	7	step.gamma	0.42127592672160546	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
36	8	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
37	8	base_lr	0.46263628414755864	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
38	8	step.warmup	0.07781567509498505	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
39	8	step.step_size	0.45450425188638666	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
40	8	step.gamma	0.47597960752699126	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
41	9	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
42	9	base_lr	0.031177233573822728	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
43	9	step.warmup	0.0021865336391761123	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
44	9	step.step_size	0.41174233105129077	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
45	9	step.gamma	0.0995690702328544	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
46	10	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
47	10	base_lr	0.1229607110732571	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
48	10	step.warmup	0.042365479933890476	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
49	10	step.step_size	0.3760629395733296	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
50	10	step.gamma	0.13694847976173485	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
51	11	family	1	{"name": "CategoricalDistribution", "attributes": {"choices": ["cosine", "step", "one_cycle"]}}
52	11	base_lr	0.1229607110732571	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
54	11	step.step_size	0.3760629395733296	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.15, "high": 0.5, "log": false}}
53	11	step.warmup	0.042365479933890476	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
55	11	step.gamma	0.13694847976173485	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
56	12	family	0	{"name": "CategoricalDistribution", "attributes": {"choices": ["constant", "step", "multistep", "exponential", "linear", "polynomial", "cosine", "cosine_restarts", "cyclic", "one_cycle", "plateau"]}}
57	12	base_lr	0.1	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
58	12	constant.warmup	0	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
59	13	family	2	{"name": "CategoricalDistribution", "attributes": {"choices": ["constant", "step", "multistep", "exponential", "linear", "polynomial", "cosine", "cosine_restarts", "cyclic", "one_cycle", "plateau"]}}
60	13	base_lr	0.1	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
61	13	multistep.warmup	0	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
62	13	multistep.start	0.5	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.3, "high": 0.8, "log": false}}
63	13	multistep.count	2	{"name": "IntDistribution", "attributes": {"log": false, "step": 1, "low": 1, "high": 3}}
64	13	multistep.gamma	0.1	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.05, "high": 0.5, "log": true}}
65	14	family	6	{"name": "CategoricalDistribution", "attributes": {"choices": ["constant", "step", "multistep", "exponential", "linear", "polynomial", "cosine", "cosine_restarts", "cyclic", "one_cycle", "plateau"]}}
66	14	base_lr	0.1	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.01, "high": 1.0, "log": true}}
67	14	cosine.warmup	0	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
68	14	cosine.eta_min	0	{"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0, "high": 0.1, "log": false}}
\.


--
-- Data for Name: trial_system_attributes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trial_system_attributes (trial_system_attribute_id, trial_id, key, value_json) FROM stdin;
1	1	completed_rung_0	0.3816155988857939
2	2	completed_rung_0	0.3649025069637883
3	3	completed_rung_0	0.16991643454038996
4	4	tpe:relative_params:0	"{\\"base_lr\\": 0.031177233573822728, \\"family\\": \\"step\\", \\"step.gamma\\": 0.0995690702328544, \\"step.step_size\\": 0.41174233105129077, \\"step.warmup\\": 0.0021865336391761123}"
5	4	completed_rung_0	0.23119777158774374
6	5	tpe:relative_params:0	"{\\"base_lr\\": 0.08903835857629688, \\"family\\": \\"step\\", \\"step.gamma\\": 0.08349032056091678, \\"step.step_size\\": 0.18941515972552692, \\"step.warmup\\": 0.08393691380047699}"
7	5	completed_rung_0	0.17270194986072424
8	6	completed_rung_0	0.3816155988857939
9	7	completed_rung_0	0.3649025069637883
10	8	completed_rung_0	0.16991643454038996
11	9	tpe:relative_params:0	"{\\"base_lr\\": 0.031177233573822728, \\"family\\": \\"step\\", \\"step.gamma\\": 0.0995690702328544, \\"step.step_size\\": 0.41174233105129077, \\"step.warmup\\": 0.0021865336391761123}"
12	9	completed_rung_0	0.23119777158774374
13	10	fixed_params	{"family": "step", "base_lr": 0.1229607110732571, "step.warmup": 0.042365479933890476, "step.step_size": 0.3760629395733296, "step.gamma": 0.13694847976173485}
14	11	fixed_params	{"family": "step", "base_lr": 0.1229607110732571, "step.warmup": 0.042365479933890476, "step.step_size": 0.3760629395733296, "step.gamma": 0.13694847976173485}
15	12	fixed_params	{"family": "constant", "base_lr": 0.1, "constant.warmup": 0.0}
16	13	fixed_params	{"family": "multistep", "base_lr": 0.1, "multistep.warmup": 0.0, "multistep.start": 0.5, "multistep.count": 2, "multistep.gamma": 0.1}
17	14	fixed_params	{"family": "cosine", "base_lr": 0.1, "cosine.warmup": 0.0, "cosine.eta_min": 0.0}
18	15	fixed_params	{"family": "cosine", "base_lr": 0.1, "cosine.warmup": 0.05, "cosine.eta_min": 0.0}
19	16	fixed_params	{"family": "one_cycle", "base_lr": 0.1, "one_cycle.pct_start": 0.3, "one_cycle.anneal": "cos", "one_cycle.div_factor": 25.0, "one_cycle.final_div_factor": 10000.0}
20	17	fixed_params	{"family": "linear", "base_lr": 0.1, "linear.warmup": 0.0, "linear.end_factor": 0.0}
21	12	completed_rung_0	0.20891364902506965
22	13	completed_rung_0	0.181058495821727
23	14	completed_rung_0	0.23119777158774374
\.


--
-- Data for Name: trial_user_attributes; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trial_user_attributes (trial_user_attribute_id, trial_id, key, value_json) FROM stdin;
1	1	schedule	{"family": "step", "warmup": 0.042365479933890476, "step_size": 0.3760629395733296, "gamma": 0.13694847976173485}
2	1	base_lr	0.1229607110732571
3	1	metrics	"{\\"train_loss\\": [2.155402421951294, 1.8610494136810303], \\"seconds\\": 0.125, \\"images_per_s\\": 16321}"
4	2	schedule	{"family": "step", "warmup": 0.05288949197529045, "step_size": 0.3488155963828763, "gamma": 0.42127592672160546}
5	2	base_lr	0.3832216850492786
6	3	schedule	{"family": "step", "warmup": 0.07781567509498505, "step_size": 0.45450425188638666, "gamma": 0.47597960752699126}
7	3	base_lr	0.46263628414755864
8	4	schedule	{"family": "step", "warmup": 0.0021865336391761123, "step_size": 0.41174233105129077, "gamma": 0.0995690702328544}
9	4	base_lr	0.031177233573822728
10	5	schedule	{"family": "step", "warmup": 0.08393691380047699, "step_size": 0.18941515972552692, "gamma": 0.08349032056091678}
11	5	base_lr	0.08903835857629688
12	6	schedule	{"family": "step", "warmup": 0.042365479933890476, "step_size": 0.3760629395733296, "gamma": 0.13694847976173485}
13	6	base_lr	0.1229607110732571
14	6	metrics	"{\\"train_loss\\": [2.155402421951294, 1.8610494136810303], \\"seconds\\": 0.153, \\"images_per_s\\": 13348}"
15	7	schedule	{"family": "step", "warmup": 0.05288949197529045, "step_size": 0.3488155963828763, "gamma": 0.42127592672160546}
16	7	base_lr	0.3832216850492786
17	8	schedule	{"family": "step", "warmup": 0.07781567509498505, "step_size": 0.45450425188638666, "gamma": 0.47597960752699126}
18	8	base_lr	0.46263628414755864
19	9	schedule	{"family": "step", "warmup": 0.0021865336391761123, "step_size": 0.41174233105129077, "gamma": 0.0995690702328544}
20	9	base_lr	0.031177233573822728
21	10	rerun_of	0
22	10	seed	1606876109
23	10	search_value	0.584958217270195
24	11	rerun_of	0
25	11	seed	1176079774
26	11	search_value	0.584958217270195
27	10	schedule	{"family": "step", "warmup": 0.042365479933890476, "step_size": 0.3760629395733296, "gamma": 0.13694847976173485}
28	10	base_lr	0.1229607110732571
29	10	metrics	"{\\"train_loss\\": [2.1669158935546875, 1.876272439956665], \\"seconds\\": 0.158, \\"images_per_s\\": 12949}"
30	10	test_accuracy	0.5181058495821727
31	11	schedule	{"family": "step", "warmup": 0.042365479933890476, "step_size": 0.3760629395733296, "gamma": 0.13694847976173485}
32	11	base_lr	0.1229607110732571
33	11	metrics	"{\\"train_loss\\": [2.161057233810425, 1.8759006261825562], \\"seconds\\": 0.124, \\"images_per_s\\": 16475}"
34	11	test_accuracy	0.5571030640668524
35	12	schedule	{"family": "constant", "warmup": 0.0}
36	12	base_lr	0.1
37	12	metrics	"{\\"train_loss\\": [2.1719093322753906], \\"seconds\\": 0.07, \\"images_per_s\\": 14602}"
38	13	schedule	{"family": "multistep", "warmup": 0.0, "milestones": [0.5, 0.75], "gamma": 0.1}
39	13	base_lr	0.1
40	14	schedule	{"family": "cosine", "warmup": 0.0, "eta_min": 0.0}
41	14	base_lr	0.1
42	14	metrics	"{\\"train_loss\\": [2.2180380821228027], \\"seconds\\": 0.077, \\"images_per_s\\": 13270}"
\.


--
-- Data for Name: trial_values; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trial_values (trial_value_id, trial_id, objective, value, value_type) FROM stdin;
1	1	0	0.584958217270195	FINITE
2	2	0	0.3649025069637883	FINITE
3	3	0	0.16991643454038996	FINITE
4	4	0	0.23119777158774374	FINITE
5	5	0	0.17270194986072424	FINITE
6	6	0	0.584958217270195	FINITE
7	7	0	0.3649025069637883	FINITE
8	8	0	0.16991643454038996	FINITE
9	9	0	0.23119777158774374	FINITE
10	10	0	0.520891364902507	FINITE
11	11	0	0.5376044568245125	FINITE
12	12	0	0.20891364902506965	FINITE
13	13	0	0.181058495821727	FINITE
14	14	0	0.23119777158774374	FINITE
\.


--
-- Data for Name: trials; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.trials (trial_id, number, study_id, state, datetime_start, datetime_complete) FROM stdin;
1	0	1	COMPLETE	2026-11-30 05:24:47.077759	2026-11-30 05:24:48.776242
2	1	1	PRUNED	2026-11-30 05:24:48.799099	2026-11-30 05:24:48.951416
3	2	1	PRUNED	2026-11-30 05:24:48.973383	2026-11-30 05:24:49.134584
4	3	1	PRUNED	2026-11-30 05:24:49.152231	2026-11-30 05:24:49.269361
5	4	1	PRUNED	2026-11-30 05:24:49.292583	2026-11-30 05:24:49.447537
6	0	2	COMPLETE	2026-11-30 05:24:49.595163	2026-11-30 05:24:49.851275
7	1	2	PRUNED	2026-11-30 05:24:49.88332	2026-11-30 05:24:50.058124
8	2	2	PRUNED	2026-11-30 05:24:50.081157	2026-11-30 05:24:50.264051
9	3	2	PRUNED	2026-11-30 05:24:50.289011	2026-11-30 05:24:50.451238
10	0	3	COMPLETE	2026-11-30 05:24:50.568947	2026-11-30 05:24:50.789891
11	1	3	COMPLETE	2026-11-30 05:24:50.814148	2026-11-30 05:24:50.984706
15	3	4	WAITING	\N	\N
16	4	4	WAITING	\N	\N
17	5	4	WAITING	\N	\N
12	0	4	COMPLETE	2026-11-30 05:24:51.168526	2026-11-30 05:24:51.275312
13	1	4	PRUNED	2026-11-30 05:24:51.298561	2026-11-30 05:24:51.403649
14	2	4	COMPLETE	2026-11-30 05:24:51.427506	2026-11-30 05:24:51.546666
\.


--
-- Data for Name: version_info; Type: TABLE DATA; Schema: public; Owner: -
--

COPY public.version_info (version_info_id, schema_version, library_version) FROM stdin;
1	12	5.0.0
\.


--
-- Name: schedsearch_studies_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.schedsearch_studies_id_seq', 6, true);


--
-- Name: studies_study_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.studies_study_id_seq', 6, true);


--
-- Name: study_directions_study_direction_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.study_directions_study_direction_id_seq', 6, true);


--
-- Name: study_system_attributes_study_system_attribute_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.study_system_attributes_study_system_attribute_id_seq', 1, false);


--
-- Name: study_user_attributes_study_user_attribute_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.study_user_attributes_study_user_attribute_id_seq', 6, true);


--
-- Name: trial_heartbeats_trial_heartbeat_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trial_heartbeats_trial_heartbeat_id_seq', 14, true);


--
-- Name: trial_intermediate_values_trial_intermediate_value_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trial_intermediate_values_trial_intermediate_value_id_seq', 18, true);


--
-- Name: trial_params_param_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trial_params_param_id_seq', 68, true);


--
-- Name: trial_system_attributes_trial_system_attribute_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trial_system_attributes_trial_system_attribute_id_seq', 23, true);


--
-- Name: trial_user_attributes_trial_user_attribute_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trial_user_attributes_trial_user_attribute_id_seq', 42, true);


--
-- Name: trial_values_trial_value_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trial_values_trial_value_id_seq', 14, true);


--
-- Name: trials_trial_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.trials_trial_id_seq', 17, true);


--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: schedsearch_meta schedsearch_meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedsearch_meta
    ADD CONSTRAINT schedsearch_meta_pkey PRIMARY KEY (key);


--
-- Name: schedsearch_studies schedsearch_studies_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedsearch_studies
    ADD CONSTRAINT schedsearch_studies_name_key UNIQUE (name);


--
-- Name: schedsearch_studies schedsearch_studies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedsearch_studies
    ADD CONSTRAINT schedsearch_studies_pkey PRIMARY KEY (id);


--
-- Name: schedsearch_workers schedsearch_workers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schedsearch_workers
    ADD CONSTRAINT schedsearch_workers_pkey PRIMARY KEY (id);


--
-- Name: studies studies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.studies
    ADD CONSTRAINT studies_pkey PRIMARY KEY (study_id);


--
-- Name: study_directions study_directions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_directions
    ADD CONSTRAINT study_directions_pkey PRIMARY KEY (study_direction_id);


--
-- Name: study_directions study_directions_study_id_objective_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_directions
    ADD CONSTRAINT study_directions_study_id_objective_key UNIQUE (study_id, objective);


--
-- Name: study_system_attributes study_system_attributes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_system_attributes
    ADD CONSTRAINT study_system_attributes_pkey PRIMARY KEY (study_system_attribute_id);


--
-- Name: study_system_attributes study_system_attributes_study_id_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_system_attributes
    ADD CONSTRAINT study_system_attributes_study_id_key_key UNIQUE (study_id, key);


--
-- Name: study_user_attributes study_user_attributes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_user_attributes
    ADD CONSTRAINT study_user_attributes_pkey PRIMARY KEY (study_user_attribute_id);


--
-- Name: study_user_attributes study_user_attributes_study_id_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_user_attributes
    ADD CONSTRAINT study_user_attributes_study_id_key_key UNIQUE (study_id, key);


--
-- Name: trial_heartbeats trial_heartbeats_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_heartbeats
    ADD CONSTRAINT trial_heartbeats_pkey PRIMARY KEY (trial_heartbeat_id);


--
-- Name: trial_heartbeats trial_heartbeats_trial_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_heartbeats
    ADD CONSTRAINT trial_heartbeats_trial_id_key UNIQUE (trial_id);


--
-- Name: trial_intermediate_values trial_intermediate_values_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_intermediate_values
    ADD CONSTRAINT trial_intermediate_values_pkey PRIMARY KEY (trial_intermediate_value_id);


--
-- Name: trial_intermediate_values trial_intermediate_values_trial_id_step_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_intermediate_values
    ADD CONSTRAINT trial_intermediate_values_trial_id_step_key UNIQUE (trial_id, step);


--
-- Name: trial_params trial_params_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_params
    ADD CONSTRAINT trial_params_pkey PRIMARY KEY (param_id);


--
-- Name: trial_params trial_params_trial_id_param_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_params
    ADD CONSTRAINT trial_params_trial_id_param_name_key UNIQUE (trial_id, param_name);


--
-- Name: trial_system_attributes trial_system_attributes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_system_attributes
    ADD CONSTRAINT trial_system_attributes_pkey PRIMARY KEY (trial_system_attribute_id);


--
-- Name: trial_system_attributes trial_system_attributes_trial_id_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_system_attributes
    ADD CONSTRAINT trial_system_attributes_trial_id_key_key UNIQUE (trial_id, key);


--
-- Name: trial_user_attributes trial_user_attributes_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_user_attributes
    ADD CONSTRAINT trial_user_attributes_pkey PRIMARY KEY (trial_user_attribute_id);


--
-- Name: trial_user_attributes trial_user_attributes_trial_id_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_user_attributes
    ADD CONSTRAINT trial_user_attributes_trial_id_key_key UNIQUE (trial_id, key);


--
-- Name: trial_values trial_values_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_values
    ADD CONSTRAINT trial_values_pkey PRIMARY KEY (trial_value_id);


--
-- Name: trial_values trial_values_trial_id_objective_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_values
    ADD CONSTRAINT trial_values_trial_id_objective_key UNIQUE (trial_id, objective);


--
-- Name: trials trials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trials
    ADD CONSTRAINT trials_pkey PRIMARY KEY (trial_id);


--
-- Name: version_info version_info_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.version_info
    ADD CONSTRAINT version_info_pkey PRIMARY KEY (version_info_id);


--
-- Name: ix_schedsearch_studies_parent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_schedsearch_studies_parent_id ON public.schedsearch_studies USING btree (parent_id);


--
-- Name: ix_schedsearch_studies_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_schedsearch_studies_status ON public.schedsearch_studies USING btree (status);


--
-- Name: ix_schedsearch_workers_last_seen; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_schedsearch_workers_last_seen ON public.schedsearch_workers USING btree (last_seen);


--
-- Name: ix_studies_study_name; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX ix_studies_study_name ON public.studies USING btree (study_name);


--
-- Name: ix_trials_study_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_trials_study_id ON public.trials USING btree (study_id);


--
-- Name: ix_trials_study_id_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_trials_study_id_state ON public.trials USING btree (study_id, state);


--
-- Name: ix_trials_study_id_trial_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_trials_study_id_trial_id ON public.trials USING btree (study_id, trial_id);


--
-- Name: study_directions study_directions_study_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_directions
    ADD CONSTRAINT study_directions_study_id_fkey FOREIGN KEY (study_id) REFERENCES public.studies(study_id);


--
-- Name: study_system_attributes study_system_attributes_study_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_system_attributes
    ADD CONSTRAINT study_system_attributes_study_id_fkey FOREIGN KEY (study_id) REFERENCES public.studies(study_id);


--
-- Name: study_user_attributes study_user_attributes_study_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.study_user_attributes
    ADD CONSTRAINT study_user_attributes_study_id_fkey FOREIGN KEY (study_id) REFERENCES public.studies(study_id);


--
-- Name: trial_heartbeats trial_heartbeats_trial_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_heartbeats
    ADD CONSTRAINT trial_heartbeats_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(trial_id);


--
-- Name: trial_intermediate_values trial_intermediate_values_trial_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_intermediate_values
    ADD CONSTRAINT trial_intermediate_values_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(trial_id);


--
-- Name: trial_params trial_params_trial_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_params
    ADD CONSTRAINT trial_params_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(trial_id);


--
-- Name: trial_system_attributes trial_system_attributes_trial_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_system_attributes
    ADD CONSTRAINT trial_system_attributes_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(trial_id);


--
-- Name: trial_user_attributes trial_user_attributes_trial_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_user_attributes
    ADD CONSTRAINT trial_user_attributes_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(trial_id);


--
-- Name: trial_values trial_values_trial_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trial_values
    ADD CONSTRAINT trial_values_trial_id_fkey FOREIGN KEY (trial_id) REFERENCES public.trials(trial_id);


--
-- Name: trials trials_study_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.trials
    ADD CONSTRAINT trials_study_id_fkey FOREIGN KEY (study_id) REFERENCES public.studies(study_id);


--
-- PostgreSQL database dump complete
--

\unrestrict I7By27jXhOnWgGFKEBYU1WTsmikus26kk4RnfsAqRqN1cvK0t6K23sGTbuRnCqz

