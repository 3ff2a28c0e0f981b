# One image for every Airflow service of docker-compose.yml (api-server, scheduler, dag-processor,
# triggerer, init, celery worker, flower): the official Airflow image plus this project.
#
# Dependencies are installed exactly as `make install` does for the runtime: the requirement file
# with the committed constraints file (Airflow's own constraint URLs are not reachable from our
# machines), then the project itself without dependencies. requirements.txt pins
# apache-airflow==3.3.2, the same version as the base image, so pip never swaps Airflow out.
#
# Build: docker compose build   (or: docker build -t escalation-airflow .)
FROM apache/airflow:3.3.2-python3.11

# The project lives in its own directory; the editable install below keeps pipeline.config's
# PROJECT_ROOT there, so the default feed list (feeds.yaml) resolves as it does in a checkout.
USER root
RUN mkdir -p /opt/airflow/escalation /opt/airflow/auth \
    && chown airflow:0 /opt/airflow/escalation /opt/airflow/auth
USER airflow
WORKDIR /opt/airflow/escalation

# Dependency layer first, so code changes do not reinstall ~140 packages.
COPY --chown=airflow:0 requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt

# The project: package, DAGs, DDL, default feed list (README.md is pyproject's `readme`). setup.py compiles
# the scorer with mypyc where the image has a C compiler; without one the install is pure Python.
COPY --chown=airflow:0 pyproject.toml setup.py README.md ./
COPY --chown=airflow:0 pipeline/ pipeline/
COPY --chown=airflow:0 dags/ dags/
COPY --chown=airflow:0 sql/ sql/
COPY --chown=airflow:0 feeds.yaml ./
RUN pip install --no-cache-dir --no-deps -e .

ENV AIRFLOW__CORE__DAGS_FOLDER=/opt/airflow/escalation/dags
