"""Images: reading and writing image files, and the built-in test images."""

from upconv.images import samples
from upconv.images.files import read_image, write_image

__all__ = ["read_image", "write_image", "samples"]
