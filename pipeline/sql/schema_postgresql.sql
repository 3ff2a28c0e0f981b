-- Generated from pipeline/store/schema.py by schema.ddl('postgresql'); do not edit.

CREATE TABLE alerts (
	alert_id SERIAL NOT NULL, 
	day DATE NOT NULL, 
	actor VARCHAR(32) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	measure VARCHAR(32) NOT NULL, 
	value FLOAT NOT NULL, 
	baseline FLOAT NOT NULL, 
	spread FLOAT NOT NULL, 
	surprise FLOAT NOT NULL, 
	articles INTEGER NOT NULL, 
	sources INTEGER NOT NULL, 
	evidence TEXT NOT NULL, 
	mode VARCHAR(16) NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	counterparts TEXT, 
	context_share FLOAT, 
	PRIMARY KEY (alert_id), 
	CONSTRAINT uq_alerts_day_actor_kind UNIQUE (day, actor, kind)
);

CREATE INDEX ix_alerts_actor_day ON alerts (actor, day);

CREATE TABLE daily_measures (
	day DATE NOT NULL, 
	actor VARCHAR(32) NOT NULL, 
	escalatory_texts INTEGER NOT NULL, 
	escalatory_outlets INTEGER NOT NULL, 
	material_mass FLOAT NOT NULL, 
	verbal_mass FLOAT NOT NULL, 
	context_texts INTEGER NOT NULL, 
	active_outlets INTEGER NOT NULL, 
	act_scores TEXT DEFAULT '{}' NOT NULL, 
	pair_masses TEXT DEFAULT '{}' NOT NULL, 
	PRIMARY KEY (day, actor)
);

CREATE INDEX ix_daily_measures_actor_day ON daily_measures (actor, day);

CREATE TABLE daily_signals (
	day DATE NOT NULL, 
	actor VARCHAR(32) NOT NULL, 
	articles INTEGER NOT NULL, 
	sources INTEGER NOT NULL, 
	sentences INTEGER NOT NULL, 
	escalatory_sentences INTEGER NOT NULL, 
	deescalatory_sentences INTEGER NOT NULL, 
	escalation_index FLOAT NOT NULL, 
	deescalation_index FLOAT NOT NULL, 
	max_score FLOAT NOT NULL, 
	computed_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (day, actor)
);

CREATE INDEX ix_daily_signals_actor_day ON daily_signals (actor, day);

CREATE TABLE feeds (
	feed_id SERIAL NOT NULL, 
	url TEXT NOT NULL, 
	title TEXT, 
	etag TEXT, 
	last_modified TEXT, 
	first_seen_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_fetched_at TIMESTAMP WITH TIME ZONE, 
	last_success_at TIMESTAMP WITH TIME ZONE, 
	last_status INTEGER, 
	last_error TEXT, 
	outlet TEXT NOT NULL, 
	PRIMARY KEY (feed_id), 
	UNIQUE (url)
);

CREATE TABLE incidents (
	incident_id SERIAL NOT NULL, 
	mode VARCHAR(16) NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	lead VARCHAR(32) NOT NULL, 
	opened DATE NOT NULL, 
	actors TEXT NOT NULL, 
	last_alert DATE NOT NULL, 
	closed DATE, 
	severity VARCHAR(16) NOT NULL, 
	peak_surprise FLOAT NOT NULL, 
	alerts INTEGER NOT NULL, 
	evidence TEXT NOT NULL, 
	paged_severity VARCHAR(16), 
	first_paged DATE, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (incident_id), 
	CONSTRAINT uq_incidents_key UNIQUE (mode, kind, opened, lead)
);

CREATE INDEX ix_incidents_mode_opened ON incidents (mode, opened);

CREATE TABLE pipeline_runs (
	run_id VARCHAR(200) NOT NULL, 
	trigger VARCHAR(32) NOT NULL, 
	started_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	finished_at TIMESTAMP WITH TIME ZONE, 
	status VARCHAR(16) NOT NULL, 
	feeds_ok INTEGER NOT NULL, 
	feeds_failed INTEGER NOT NULL, 
	new_articles INTEGER NOT NULL, 
	new_sentences INTEGER NOT NULL, 
	details TEXT, 
	PRIMARY KEY (run_id)
);

CREATE TABLE scoring_thresholds (
	name VARCHAR(32) NOT NULL, 
	value FLOAT NOT NULL, 
	PRIMARY KEY (name)
);

CREATE TABLE alert_deliveries (
	alert_id INTEGER NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error TEXT, 
	sent_at TIMESTAMP WITH TIME ZONE, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (alert_id, channel), 
	FOREIGN KEY(alert_id) REFERENCES alerts (alert_id)
);

CREATE TABLE articles (
	article_id SERIAL NOT NULL, 
	article_key TEXT NOT NULL, 
	feed_id INTEGER NOT NULL, 
	guid TEXT, 
	url TEXT, 
	title TEXT NOT NULL, 
	published_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	published_day DATE NOT NULL, 
	date_source VARCHAR(16) NOT NULL, 
	fetched_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	content_hash VARCHAR(64) NOT NULL, 
	sentence_count INTEGER NOT NULL, 
	run_id TEXT, 
	PRIMARY KEY (article_id), 
	UNIQUE (article_key), 
	FOREIGN KEY(feed_id) REFERENCES feeds (feed_id)
);

CREATE INDEX ix_articles_day ON articles (published_day);

CREATE INDEX ix_articles_feed_day ON articles (feed_id, published_day);

CREATE TABLE fetch_log (
	fetch_id SERIAL NOT NULL, 
	feed_id INTEGER NOT NULL, 
	run_id TEXT, 
	fetched_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	ok BOOLEAN NOT NULL, 
	status INTEGER, 
	not_modified BOOLEAN NOT NULL, 
	error TEXT, 
	bozo_reason TEXT, 
	entries_seen INTEGER NOT NULL, 
	new_articles INTEGER NOT NULL, 
	elapsed_s FLOAT, 
	PRIMARY KEY (fetch_id), 
	FOREIGN KEY(feed_id) REFERENCES feeds (feed_id)
);

CREATE INDEX ix_fetch_log_feed_time ON fetch_log (feed_id, fetched_at);

CREATE TABLE incident_alerts (
	incident_id INTEGER NOT NULL, 
	alert_id INTEGER NOT NULL, 
	PRIMARY KEY (incident_id, alert_id), 
	FOREIGN KEY(incident_id) REFERENCES incidents (incident_id), 
	FOREIGN KEY(alert_id) REFERENCES alerts (alert_id)
);

CREATE INDEX ix_incident_alerts_alert ON incident_alerts (alert_id);

CREATE TABLE incident_pages (
	page_id SERIAL NOT NULL, 
	incident_id INTEGER NOT NULL, 
	day DATE NOT NULL, 
	reason VARCHAR(16) NOT NULL, 
	severity VARCHAR(16) NOT NULL, 
	previous_severity VARCHAR(16), 
	surprise FLOAT NOT NULL, 
	cause_actor VARCHAR(32) NOT NULL, 
	why TEXT NOT NULL, 
	evidence TEXT NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (page_id), 
	CONSTRAINT uq_incident_pages_incident_day UNIQUE (incident_id, day), 
	FOREIGN KEY(incident_id) REFERENCES incidents (incident_id)
);

CREATE TABLE article_pages (
	article_id INTEGER NOT NULL, 
	body_source VARCHAR(8) NOT NULL, 
	page_state VARCHAR(8) NOT NULL, 
	page_url TEXT, 
	host TEXT, 
	attempts INTEGER NOT NULL, 
	http_status INTEGER, 
	final_url TEXT, 
	fetched_at TIMESTAMP WITH TIME ZONE, 
	extractor VARCHAR(32), 
	extractor_version VARCHAR(64), 
	language VARCHAR(8), 
	error TEXT, 
	run_id TEXT, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (article_id), 
	FOREIGN KEY(article_id) REFERENCES articles (article_id)
);

CREATE INDEX ix_article_pages_state_host ON article_pages (page_state, host);

CREATE TABLE article_sources (
	article_id INTEGER NOT NULL, 
	feed_id INTEGER NOT NULL, 
	first_seen_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (article_id, feed_id), 
	FOREIGN KEY(article_id) REFERENCES articles (article_id), 
	FOREIGN KEY(feed_id) REFERENCES feeds (feed_id)
);

CREATE TABLE page_deliveries (
	page_id INTEGER NOT NULL, 
	channel VARCHAR(32) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	last_error TEXT, 
	sent_at TIMESTAMP WITH TIME ZONE, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (page_id, channel), 
	FOREIGN KEY(page_id) REFERENCES incident_pages (page_id)
);

CREATE TABLE sentences (
	sentence_id SERIAL NOT NULL, 
	article_id INTEGER NOT NULL, 
	seq INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	score FLOAT NOT NULL, 
	escalation FLOAT NOT NULL, 
	deescalation FLOAT NOT NULL, 
	matches TEXT NOT NULL, 
	scorer_version TEXT NOT NULL, 
	scored_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (sentence_id), 
	CONSTRAINT uq_sentences_article_seq UNIQUE (article_id, seq), 
	FOREIGN KEY(article_id) REFERENCES articles (article_id)
);

CREATE TABLE sentence_actors (
	sentence_id INTEGER NOT NULL, 
	actor VARCHAR(32) NOT NULL, 
	PRIMARY KEY (sentence_id, actor), 
	FOREIGN KEY(sentence_id) REFERENCES sentences (sentence_id)
);

CREATE INDEX ix_sentence_actors_actor_sentence ON sentence_actors (actor, sentence_id);
