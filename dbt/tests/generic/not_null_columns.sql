{#
    None of `columns` is null: one scan of the model for all of them, where one not_null
    test per column scans it once per column (on a large fact each scan costs about as
    much as the test's whole work). Returns the rows with a null, as not_null does.
#}
{% test not_null_columns(model, columns) %}

select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{{ ' or ' if not loop.last }}{% endfor %}

{% endtest %}
