/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the ELF loader on arbitrary bytes. Any input must give
 * an image or an error, never a crash, a leak or undefined behaviour; an
 * accepted image must answer lookups.
 */
#include <stddef.h>
#include <stdint.h>

#include "elf_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hs_image *img = NULL;
	struct hs_error err = {0};
	if (hs_image_load_mem(data, size, "fuzz", &img, &err) == 0) {
		for (size_t i = 0; i < img->nsyms; i++) {
			uint64_t off;
			hs_image_symbolize(img, img->syms[i].addr, &off);
			hs_image_symbol(img, img->syms[i].name);
		}
		hs_image_line(img, img->entry);
		hs_image_source_file(img, "main.c");
		hs_image_free(img);
	}
	return 0;
}
