{#
    The combination of `columns` is unique in the model: one row per grain.

    One group-by over the model, cheaper than a surrogate-key uniqueness test on a large
    fact (no hashing) and usable where no single column is a key.
#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as rows_per_combination
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
