"""One module per resource, each an APIRouter; backend/api/main.py assembles them."""
