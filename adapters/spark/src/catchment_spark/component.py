"""The ``spark`` component type: a catchment.yaml entry -> one definition per script job.

```yaml
- type: spark
  name: spark_jobs
  attributes:
    master: local[2]
    jobs:
      - name: revenue
        script: jobs/revenue.py
        inputs: [{duckdb: main.orders}]        # a table in the project warehouse
        outputs:
          - {key: spark/revenue_daily, path: data/spark/revenue_daily}
```
"""

from __future__ import annotations

from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition
from catchment.errors import ConfigError

from catchment_spark.attributes import SparkAttributes


def build(attributes: SparkAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Declare every job's assets without running Spark (discovery is side-effect free)."""
    # Imported here: a load imports every installed adapter to register its types, and only
    # projects with a spark component need the machinery behind this one.
    from catchment_spark.assets import job_definition

    names = [j.name for j in attributes.jobs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(
            f"job names must be unique, repeated: {', '.join(duplicates)}",
            where=f"{context.source} attributes.jobs",
        )
    return [job_definition(j, i, attributes, context) for i, j in enumerate(attributes.jobs)]


COMPONENT_TYPE = ComponentType(
    name="spark",
    attributes=SparkAttributes,
    build=build,
    description="PySpark scripts run with spark-submit, reporting over catchment pipes",
    adapter="spark",
)
